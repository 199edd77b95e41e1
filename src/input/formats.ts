import type { InputFormat, JobSpec } from './spec.js';
import { splitHeader } from '../http/header-line.js';

/** What a line parser reports: a finished entry, a rejected line, or an ignored option. */
export interface ParseSink {
  entry(spec: JobSpec): void;
  reject(src: string, reason: string): void;
  /** Something in the input that dl does not use; not an error. */
  warn(src: string, reason: string): void;
}

/** A stateful reader of one input file's lines; aria2 entries end at the next URL line or at `end`. */
export interface LineParser {
  line(text: string, line: number): void;
  /** Ends the entry being read (its option lines, if any, came with it). */
  end(): void;
}

/** aria2 keys dl honours; every other key is reported once per file as ignored. */
const ARIA2_KEYS = new Set(['out', 'dir', 'checksum', 'header']);

/**
 * A parser for `label`'s lines. With format `undefined` the format is taken from the first line
 * that is not blank or a comment: `{` starts JSON Lines, anything else is aria2's input file
 * format, of which a plain URL list is the simplest case.
 */
export function lineParser(label: string, sink: ParseSink, format?: InputFormat): LineParser {
  let chosen = format;
  let current: JobSpec | undefined;
  const ignored = new Set<string>();
  const flush = (): void => {
    if (current) sink.entry(current);
    current = undefined;
  };
  return {
    line(text, line) {
      const src = `${label}:${line}`;
      const trimmed = text.trim();
      if (trimmed === '' || trimmed.startsWith('#')) return;
      chosen ??= trimmed.startsWith('{') ? 'jsonl' : 'aria2';
      if (chosen === 'jsonl') return jsonEntry(trimmed, src, sink);
      // An indented line is an option of the entry above it, unless it is a URL itself (a plain
      // list indented by hand).
      if (chosen === 'aria2' && /^\s/.test(text) && !/^[a-z][a-z0-9+.-]*:/i.test(trimmed)) {
        const eq = trimmed.indexOf('=');
        if (!current) return sink.reject(src, `option line without a URL before it: ${JSON.stringify(trimmed.slice(0, 80))}`);
        if (eq <= 0) return sink.reject(src, `expected key=value after a URL line: ${JSON.stringify(trimmed.slice(0, 80))}`);
        const key = trimmed.slice(0, eq).trim();
        const value = trimmed.slice(eq + 1).trim();
        if (!ARIA2_KEYS.has(key)) {
          if (!ignored.has(key)) sink.warn(src, `ignoring aria2 option "${key}" (dl honours out, dir, checksum and header)`);
          ignored.add(key);
          return;
        }
        if (key === 'header') {
          const field = splitHeader(value);
          if (!field) return sink.reject(src, `header must be "Name: value": ${JSON.stringify(value)}`);
          current.headers = { ...current.headers, [field.name]: field.value };
        } else {
          current[key as 'out' | 'dir' | 'checksum'] = value;
        }
        return;
      }
      flush();
      // aria2 lists mirrors of one file separated by tabs; dl fetches the first.
      const tab = trimmed.indexOf('\t');
      current = { url: tab === -1 ? trimmed : trimmed.slice(0, tab), src };
      if (chosen === 'plain') flush();
    },
    end: flush,
  };
}

function jsonEntry(text: string, src: string, sink: ParseSink): void {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return sink.reject(src, 'not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return sink.reject(src, 'expected a JSON object');
  const entry = value as Record<string, unknown>;
  if (typeof entry.url !== 'string') return sink.reject(src, 'missing "url" (a string)');
  const spec: JobSpec = { url: entry.url, src };
  for (const key of ['out', 'dir', 'checksum'] as const) {
    if (entry[key] === undefined) continue;
    if (typeof entry[key] !== 'string') return sink.reject(src, `"${key}" must be a string`);
    spec[key] = entry[key] as string;
  }
  if (entry.headers !== undefined) {
    const headers = entry.headers as Record<string, unknown>;
    if (typeof headers !== 'object' || headers === null || Object.values(headers).some((v) => typeof v !== 'string')) {
      return sink.reject(src, '"headers" must be an object of strings');
    }
    spec.headers = Object.fromEntries(Object.entries(headers as Record<string, string>).map(([k, v]) => [k.toLowerCase(), v]));
  }
  sink.entry(spec);
}
