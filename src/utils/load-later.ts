import { createRequire } from 'node:module';

/**
 * A module loaded on its first use rather than when dl starts: for what most runs never touch
 * (the Public Suffix List, hashing, status texts of failures). Each of Node's own modules costs
 * milliseconds to load, and a bulk run is often many short runs (docs/architecture.md).
 */
export function loadLater<T>(id: string): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= createRequire(import.meta.url)(id) as T);
}
