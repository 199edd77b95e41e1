import { Chalk, type ChalkInstance } from 'chalk';

/**
 * Colours for a stream: NO_COLOR (any non-empty value) turns them off, FORCE_COLOR (0-3, or
 * empty/true for basic colours) forces them, otherwise a terminal gets what it supports and
 * anything else gets none.
 */
export function colorFor(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv = process.env): ChalkInstance {
  return new Chalk({ level: colorLevel(stream, env) });
}

export function colorLevel(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv): 0 | 1 | 2 | 3 {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return 0;
  const force = env.FORCE_COLOR;
  if (force !== undefined) {
    if (force === '0' || force === 'false') return 0;
    if (force === '2') return 2;
    if (force === '3') return 3;
    return 1;
  }
  if (!stream.isTTY) return 0;
  if (stream.hasColors?.(2 ** 24)) return 3;
  if (stream.hasColors?.(256)) return 2;
  return stream.hasColors?.() ? 1 : 0;
}
