import { AppError } from "../../errors/app-error.ts";

/**
 * How long a caller refused with auth_in_progress should wait before trying again. The
 * intent it ran into usually ends within seconds (a connect finishes, fails, or is
 * released when its caller's deadline passes), so the hint is a short backoff, not the
 * intent's remaining life; that stays in metadata.expireTime for who wants the worst case.
 */
const AUTH_IN_PROGRESS_RETRY_MS = 1_000;

/** Another intent holds this identity until `expiresAt` at the latest. */
export function authInProgress(expiresAt: Date, now: Date): AppError {
  return new AppError("auth_in_progress", {
    metadata: { expireTime: expiresAt.toISOString() },
    retryAfterMs: Math.min(AUTH_IN_PROGRESS_RETRY_MS, Math.max(0, expiresAt.getTime() - now.getTime())),
  });
}
