/** First retry after this long; each further one waits twice as long, up to MAX_DELAY_MS. */
export const FIRST_DELAY_MS = 30_000;
export const MAX_DELAY_MS = 4 * 3_600_000;

/**
 * When a failed delivery is tried again (pure): exponential backoff from FIRST_DELAY_MS,
 * capped at MAX_DELAY_MS, each delay spread at random by ±25% so endpoints coming back are not
 * hit by every replica at once. Undefined once the next attempt would fall after `retryForMs`
 * from the delivery's creation: the delivery has failed for good.
 */
export function nextAttemptAt(attemptsMade: number, createdAt: Date, at: Date, retryForMs: number, random: () => number = Math.random): Date | undefined {
  const base = Math.min(FIRST_DELAY_MS * 2 ** Math.max(0, attemptsMade - 1), MAX_DELAY_MS);
  const delay = Math.round(base * (0.75 + random() * 0.5));
  const next = at.getTime() + delay;
  return next - createdAt.getTime() > retryForMs ? undefined : new Date(next);
}
