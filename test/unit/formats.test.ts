import { describe, expect, it } from 'vitest';
import { lineParser } from '../../src/input/formats.js';
import type { InputFormat, JobSpec } from '../../src/input/spec.js';

function parse(text: string, format?: InputFormat) {
  const entries: JobSpec[] = [];
  const rejected: string[] = [];
  const warnings: string[] = [];
  const parser = lineParser('in.txt', {
    entry: (spec) => entries.push(spec),
    reject: (src, reason) => rejected.push(`${src}: ${reason}`),
    warn: (src, reason) => warnings.push(`${src}: ${reason}`),
  }, format);
  text.split('\n').forEach((line, i) => parser.line(line, i + 1));
  parser.end();
  return { entries, rejected, warnings };
}

describe('input formats', () => {
  it('reads a plain list: one entry per URL line, blank lines and comments skipped', () => {
    const { entries, rejected } = parse('# list\nhttp://a/1\n\n  http://a/2\nnot a url\n');
    expect(entries.map((e) => [e.url, e.src])).toEqual([
      ['http://a/1', 'in.txt:2'],
      ['http://a/2', 'in.txt:4'],
      ['not a url', 'in.txt:5'], // the resolver rejects it, with its line
    ]);
    expect(rejected).toEqual([]);
  });

  it("reads aria2's input file, as in aria2's manual", () => {
    const manual = [
      'http://server/file.iso\thttp://mirror/file.iso',
      '  dir=/iso_images',
      '  out=file.img',
      'http://foo/bar',
      '  checksum=sha-256=' + 'a'.repeat(64),
      '  header=Referer: http://foo/',
      '  header=X-Token: t=1',
      '  max-connection-per-server=2',
      'http://baz/qux',
      '  max-connection-per-server=4',
    ].join('\n');
    const { entries, rejected, warnings } = parse(manual);
    expect(entries).toEqual([
      { url: 'http://server/file.iso', src: 'in.txt:1', dir: '/iso_images', out: 'file.img' },
      { url: 'http://foo/bar', src: 'in.txt:4', checksum: `sha-256=${'a'.repeat(64)}`, headers: { referer: 'http://foo/', 'x-token': 't=1' } },
      { url: 'http://baz/qux', src: 'in.txt:9' },
    ]);
    expect(rejected).toEqual([]);
    // An ignored option is said once per file, and is not an error.
    expect(warnings).toEqual(['in.txt:8: ignoring aria2 option "max-connection-per-server" (dl honours out, dir, checksum and header)']);
  });

  it('rejects aria2 option lines that belong to no URL or are not key=value', () => {
    const { entries, rejected } = parse('  out=x\nhttp://a/1\n  just words\n  header=nocolon');
    expect(entries).toEqual([{ url: 'http://a/1', src: 'in.txt:2' }]);
    expect(rejected).toEqual([
      'in.txt:1: option line without a URL before it: "out=x"',
      'in.txt:3: expected key=value after a URL line: "just words"',
      'in.txt:4: header must be "Name: value": "nocolon"',
    ]);
  });

  it('reads JSON Lines and rejects what is not a valid entry', () => {
    const { entries, rejected } = parse(
      [
        '{"url": "http://a/1", "out": "x.bin", "dir": "d", "checksum": "md5=' + '0'.repeat(32) + '", "headers": {"X-A": "1"}}',
        '{"url": "http://a/2"}',
        '{"url": 3}',
        '{"out": "x"}',
        '[1, 2]',
        '{not json',
        '{"url": "http://a/3", "headers": {"X": 1}}',
        '{"url": "http://a/4", "out": 5}',
      ].join('\n'),
    );
    expect(entries).toEqual([
      { url: 'http://a/1', src: 'in.txt:1', out: 'x.bin', dir: 'd', checksum: `md5=${'0'.repeat(32)}`, headers: { 'x-a': '1' } },
      { url: 'http://a/2', src: 'in.txt:2' },
    ]);
    expect(rejected).toEqual([
      'in.txt:3: missing "url" (a string)',
      'in.txt:4: missing "url" (a string)',
      'in.txt:5: expected a JSON object',
      'in.txt:6: not valid JSON',
      'in.txt:7: "headers" must be an object of strings',
      'in.txt:8: "out" must be a string',
    ]);
  });

  it('--input-format plain keeps indented lines as URLs, not options', () => {
    const { entries } = parse('http://a/1\n  out=x', 'plain');
    expect(entries.map((e) => e.url)).toEqual(['http://a/1', 'out=x']);
  });
});
