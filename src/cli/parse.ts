import { InvalidArgumentError } from 'commander';

/** A whole number of at least 1, for limits. */
export function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1) {
    throw new InvalidArgumentError('expected a whole number of at least 1');
  }
  return n;
}

/** Collects repeated `key=n` options (`--host-limit example.org=2`) into a map. */
export function keyedLimit(value: string, previous: Map<string, number> = new Map()): Map<string, number> {
  const eq = value.lastIndexOf('=');
  const key = value.slice(0, eq).trim().toLowerCase();
  if (eq <= 0 || key === '') throw new InvalidArgumentError('expected NAME=N, for example example.org=2');
  previous.set(key, positiveInt(value.slice(eq + 1)));
  return previous;
}
