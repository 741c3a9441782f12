import { once } from "node:events";

/**
 * `work`'s result, or the signal's reason as soon as it aborts, whichever comes first: for work
 * that may ignore the signal (a connector), whose late result is then dropped.
 */
export async function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  signal.throwIfAborted();
  const settled = new AbortController();
  try {
    return await Promise.race([work, once(signal, "abort", { signal: settled.signal }).then(() => Promise.reject(signal.reason as Error))]);
  } finally {
    settled.abort();
  }
}
