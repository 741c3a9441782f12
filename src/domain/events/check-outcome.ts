import { catalogue, type ErrorKind } from "../../errors/catalogue.ts";
import type { AccountStatus, CheckResult } from "../../store/store.ts";

/**
 * The provider refused the stored credentials themselves: no retry will help, the person
 * must reconnect. Everything else (unreachable, timeouts, 5xx, TLS, proxy) may pass.
 */
const refusals: ReadonlySet<ErrorKind> = new Set(["invalid_credentials", "account_mismatch", "session_mismatch", "insufficient_permissions", "account_restricted"]);

export interface CheckPolicy {
  /** Transient failures in a row that turn an account ERROR. */
  errorAfter: number;
}

/**
 * The status an account moves to after one check (pure). A refusal sets CREDENTIALS_EXPIRED
 * at once; transient failures count up and set ERROR at `errorAfter`; a success resets the
 * count and brings the account back to CONNECTED.
 */
export function nextStatus(current: AccountStatus, failures: number, failure: ErrorKind | undefined, policy: CheckPolicy): Omit<CheckResult, "nextCheckAt"> {
  if (failure === undefined) return { status: "CONNECTED", reason: null, failures: 0 };
  const reason = catalogue[failure].type;
  if (refusals.has(failure)) return { status: "CREDENTIALS_EXPIRED", reason, failures: 0 };
  const inARow = failures + 1;
  if (inARow >= policy.errorAfter) return { status: "ERROR", reason, failures: inARow };
  // Not yet: the account keeps its status (and the reason it had), only the count moves.
  return { status: current, reason: current === "CONNECTED" ? null : reason, failures: inARow };
}

/** `intervalMs` lengthened or shortened at random by up to `jitterPercent`, so accounts linked together spread out. */
export function jittered(intervalMs: number, jitterPercent: number, random: () => number = Math.random): number {
  const spread = (intervalMs * jitterPercent) / 100;
  return Math.max(1, Math.round(intervalMs - spread + random() * 2 * spread));
}
