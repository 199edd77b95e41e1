/**
 * Milliseconds on a monotonic clock, as `performance.now()` counts them but from another origin:
 * only differences mean anything. Not `performance.now()`, because the first touch of the
 * `performance` global makes Node 20 load its whole perf_hooks module, 1-2 ms of every run's
 * start-up (docs/architecture.md, "Start-up").
 */
export function monotonicMs(): number {
  const [seconds, nanoseconds] = process.hrtime();
  return seconds * 1e3 + nanoseconds / 1e6;
}
