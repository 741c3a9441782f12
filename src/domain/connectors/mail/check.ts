import type { SecureContext } from "node:tls";
import { isAppError } from "../../../errors/app-error.ts";
import { mailFailure, type Endpoint } from "./errors.ts";

export type Security = "tls" | "starttls";

export interface Login {
  user: string;
  pass: string;
}

/** What one protocol check needs besides its endpoint and login. */
export interface CheckContext {
  trust: SecureContext;
  /** Longest wait for TCP, TLS and the greeting; the deadline still applies on top. */
  connectTimeoutMs: number;
  deadline: Date;
  /** Aborts when the caller gives up or the other protocol's check has failed. */
  stop: AbortSignal;
}

/**
 * Runs `start()` and settles with it, unless `stop` aborts or the deadline passes first:
 * then it rejects at once, and the caller's `finally` closes the client (which also
 * settles the library's own promise).
 */
export function bounded<T>(endpoint: Endpoint, ctx: CheckContext, start: () => Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const finish = (settle: () => void) => {
      clearTimeout(timer);
      ctx.stop.removeEventListener("abort", onStop);
      settle();
    };
    const onStop = () => finish(() => reject(stopError(endpoint, ctx.stop.reason)));
    const timer = setTimeout(() => finish(() => reject(mailFailure(endpoint, "timeout"))), ctx.deadline.getTime() - Date.now());
    if (ctx.stop.aborted) return onStop();
    if (ctx.deadline.getTime() <= Date.now()) return finish(() => reject(mailFailure(endpoint, "timeout")));
    ctx.stop.addEventListener("abort", onStop, { once: true });
    start().then(
      (value) => finish(() => resolve(value)),
      (error: unknown) => finish(() => reject(error)),
    );
  });
}

/**
 * Why the check was stopped: the sibling's failure as is; the caller's deadline as this
 * endpoint's timeout (the caller's deadline timer may fire before ours); anything else
 * as a cancellation.
 */
function stopError(endpoint: Endpoint, reason: unknown) {
  if (isAppError(reason)) return reason;
  if (reason instanceof DOMException && reason.name === "TimeoutError") return mailFailure(endpoint, "timeout");
  return mailFailure(endpoint, "canceled");
}
