import { InvalidArgumentError } from 'commander';
import { HEADER_NAME, splitHeader } from '../http/header-line.js';

/** A whole number of at least 1, for limits. */
export function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1) {
    throw new InvalidArgumentError('expected a whole number of at least 1');
  }
  return n;
}

/** A whole number of 0 or more, for counts such as retries. */
export function count(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) throw new InvalidArgumentError('expected a whole number (0 or more)');
  return n;
}

/** Seconds (fractions allowed) as milliseconds. */
export function seconds(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected a number of seconds, such as 30 or 0.5');
  return Math.round(n * 1000);
}

/** A size in bytes: `500`, `64k`, `1.5M`, `2G`, `1TiB` (k, M, G, T are powers of 1024). */
export function size(value: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([kKmMgGtT]?)(i?[bB])?$/.exec(value.trim());
  if (!match) throw new InvalidArgumentError('expected a size such as 500, 64k, 1.5M or 2G');
  const power = ' kmgt'.indexOf((match[2] || ' ').toLowerCase());
  return Math.floor(Number(match[1]) * 1024 ** power);
}

/** Collects repeated `-H "Name: value"` options; the value may itself contain colons. */
export function header(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const field = splitHeader(value);
  if (!field || !HEADER_NAME.test(field.name)) {
    throw new InvalidArgumentError('expected "Name: value", for example "Authorization: Bearer TOKEN"');
  }
  return { ...previous, [field.name]: field.value };
}

/** Collects repeated `key=n` options (`--host-limit example.org=2`) into a map. */
export function keyedLimit(value: string, previous: Map<string, number> = new Map()): Map<string, number> {
  const eq = value.lastIndexOf('=');
  const key = value.slice(0, eq).trim().toLowerCase();
  if (eq <= 0 || key === '') throw new InvalidArgumentError('expected NAME=N, for example example.org=2');
  previous.set(key, positiveInt(value.slice(eq + 1)));
  return previous;
}
