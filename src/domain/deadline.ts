/**
 * The one deadline policy of the service. Every layer that hands work on to a slower one (the
 * RPC to the domain, the domain to a connector or gateway, a connector to its HTTP request)
 * gives the next one its own deadline minus a margin, so the error it raises (our
 * request_timeout, with its ErrorInfo) still reaches the caller before the caller's deadline,
 * instead of a bare DEADLINE_EXCEEDED. The margin is a third of the time left, at most
 * MAX_MARGIN_MS: long calls keep almost all of their budget, short ones keep enough after the
 * abort to close the intent and answer.
 */
export const MAX_MARGIN_MS = 100;

/** How long before `deadline` the next layer must be done, given `remainingMs` left now. */
export function marginMs(remainingMs: number): number {
  return Math.min(MAX_MARGIN_MS, Math.max(0, remainingMs) / 3);
}

/** The deadline to give the next layer. */
export function innerDeadline(deadline: Date, now = Date.now()): Date {
  return new Date(deadline.getTime() - marginMs(deadline.getTime() - now));
}

/** Milliseconds the next layer has from now (never negative). */
export function innerBudgetMs(deadline: Date, now = Date.now()): number {
  return Math.max(0, innerDeadline(deadline, now).getTime() - now);
}
