/**
 * The one deadline policy of the service. Every layer that hands work on to a slower one (the
 * RPC to the domain, the domain to a connector or gateway, a connector to its HTTP request)
 * gives the next one its own deadline minus a margin, so the error it raises (our
 * request_timeout, with its ErrorInfo) still reaches the caller before the caller's deadline,
 * instead of a bare DEADLINE_EXCEEDED.
 *
 * The margin is a third of the time left, at least MIN_MARGIN_MS and at most MAX_MARGIN_MS
 * (never more than the time left). After the abort the give-up path still writes to the store
 * (the intent closes FAILED request_timeout) and answers: on a loaded machine (a busy event
 * loop, a queued PostgreSQL pool) that took more than the earlier 100 ms cap, and the caller's
 * own timer won. So: a 300 ms caller keeps 200 ms (margin 100), a 1 s caller 667 ms (333), a
 * 30 s caller all but half a second; below 150 ms the 50 ms floor holds.
 */
export const MIN_MARGIN_MS = 50;
export const MAX_MARGIN_MS = 500;

/** How long before `deadline` the next layer must be done, given `remainingMs` left now. */
export function marginMs(remainingMs: number): number {
  const left = Math.max(0, remainingMs);
  return Math.min(left, MAX_MARGIN_MS, Math.max(MIN_MARGIN_MS, left / 3));
}

/** The deadline to give the next layer. */
export function innerDeadline(deadline: Date, now = Date.now()): Date {
  return new Date(deadline.getTime() - marginMs(deadline.getTime() - now));
}

/** Milliseconds the next layer has from now (never negative). */
export function innerBudgetMs(deadline: Date, now = Date.now()): number {
  return Math.max(0, innerDeadline(deadline, now).getTime() - now);
}
