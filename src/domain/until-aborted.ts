/**
 * `work`'s result, or the signal's reason as soon as it aborts, whichever comes first: for work
 * that may ignore the signal (a connector), whose late result is then dropped.
 *
 * A plain listener, removed when `work` settles: events.once with an AbortController of its
 * own made two AbortErrors (stack traces included) on every call that did not abort.
 */
export async function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  signal.throwIfAborted();
  let onAbort = () => {};
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason as Error);
    signal.addEventListener("abort", onAbort, { once: true });
  });
  try {
    return await Promise.race([work, aborted]);
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
}
