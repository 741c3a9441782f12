import { AppError, isAppError } from "../../errors/app-error.ts";

/**
 * What X's login flow said last, seen on the wire (onboarding/task.json): twitter-scraper
 * folds X's answers into error messages, so the driver reads the codes themselves.
 */
export interface FlowObservation {
  /** The subtask our last request answered. */
  sentSubtask?: string;
  /** X's `errors[0]` of the last answer. */
  error?: { code: number; message: string };
  /** The HTTP status of the last answer. */
  status?: number;
}

export const X = "X";

/**
 * X's login verdicts (error codes as twscrape, twitter-scraper and agent-twitter-client users
 * report them): 399 on the password step is a wrong password, elsewhere a login X holds as
 * suspicious; 32 could not authenticate; 64 suspended and 326 locked; DenyLoginSubtask a
 * refused login; an unknown subtask (Arkose captcha, ...) cannot be relayed.
 */
export function flowFailure(e: unknown, seen: FlowObservation): AppError {
  if (isAppError(e)) return e;
  const message = e instanceof Error ? e.message : "";
  const unknown = /^Unknown subtask (\w{1,64})/.exec(message);
  if (unknown) return new AppError("action_required", { detail: "X asks for a step this service cannot relay; log in once from a browser.", metadata: { provider: X, subtask: unknown[1]! } });
  if (/DenyLoginSubtask/.test(message)) return new AppError("account_restricted", { detail: "X refused this login.", metadata: { provider: X, subtask: "DenyLoginSubtask" } });
  const code = seen.error?.code;
  const metadata = { provider: X, ...(code !== undefined ? { errorCode: String(code) } : {}), ...(seen.sentSubtask ? { subtask: seen.sentSubtask } : {}) };
  const wrongPassword = seen.sentSubtask === "LoginEnterPassword" && /password/i.test(seen.error?.message ?? "");
  const unknownUser = seen.sentSubtask === "LoginEnterUserIdentifierSSO" && /find your account/i.test(seen.error?.message ?? "");
  if (code === 32 || (code === 399 && (wrongPassword || unknownUser))) {
    return new AppError("invalid_credentials", { detail: "X rejected the user name or password.", metadata });
  }
  if (code === 64 || code === 326 || code === 141) return new AppError("account_restricted", { detail: "X has locked or suspended this account.", metadata });
  if (code === 399 || code === 366) return new AppError("action_required", { detail: "X holds this login as suspicious: log in once from a browser, then retry.", metadata });
  if (seen.status === 429 || (seen.status ?? 0) >= 500 || seen.status === 403) {
    return new AppError("provider_error", { detail: `X answered HTTP ${seen.status}.`, metadata: { ...metadata, status: String(seen.status) } });
  }
  return new AppError("provider_error", { detail: "X's login flow ended unexpectedly.", metadata: { ...metadata, cause: "unexpected_response" } });
}
