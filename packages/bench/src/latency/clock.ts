// One clock for the uploader (main thread) and every reader (worker threads).
//
// process.hrtime is CLOCK_MONOTONIC, shared by all threads of the process, so a time taken in a
// worker and one taken in the main thread can be subtracted directly. (performance.timeOrigin +
// performance.now() mixes in the wall clock read once per thread, which can be off by a fraction
// of a millisecond between threads and moves with NTP.) Times are milliseconds since `base`, a
// small number, so a double keeps nanosecond precision.

let base = process.hrtime.bigint();

/** The zero of this thread's clock; pass it to workers so they share it. */
export function clockBase(): bigint {
  return base;
}

/** Sets the zero (workers call this with the main thread's base). */
export function setClockBase(value: bigint): void {
  base = value;
}

/** Milliseconds since the shared zero, sub-microsecond resolution. */
export function now(): number {
  return Number(process.hrtime.bigint() - base) / 1e6;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
