import type { Logger } from "pino";
import type { VariantCase } from "../../domain/connectors/connector.ts";
import { credentialsOfRequest } from "../../domain/credentials/connect-request.ts";
import { FINAL_AUTH_STATUSES, type AuthEvent, type AuthState, type InteractiveCall, type InteractiveConnector, type StartInput } from "../../domain/connectors/interactive.ts";
import { AppError } from "../../errors/app-error.ts";
import type { ProviderDriver } from "../driver.ts";
import { HostedLogin } from "./hosted-login.ts";

export interface DriverHostOptions {
  drivers: readonly ProviderDriver[];
  log: Logger;
  /** Concurrent logins not yet final this process holds at most; beyond, start answers service_unavailable. */
  maxPendingSessions: number;
  /** The longest a login may stay pending before it is canceled as EXPIRED. */
  sessionTtlMs: number;
  /** How long a finished login still answers get/events (a caller on another replica may ask late). */
  retainMs?: number;
}

export interface DriverHost extends InteractiveConnector {
  /** Logins not yet final. */
  readonly pendingSessions: number;
  /** Cancels every login and closes every provider socket (drain, exit). */
  close(): Promise<void>;
}

const DEFAULT_RETAIN_MS = 60_000;

/**
 * Runs provider drivers in this process as the InteractiveConnector the intent engine speaks
 * to: each intent id names one login, held in memory here. The gateway process serves a host
 * like this one over ProviderGatewayService; the server embeds one by default. A key this
 * host does not hold (another process's, or one it forgot after a restart) is
 * no_client_session: the intent cannot go on and the person restarts.
 */
export function createDriverHost(options: DriverHostOptions): DriverHost {
  const byVariant = new Map<VariantCase, ProviderDriver>();
  for (const driver of options.drivers) for (const variant of driver.variants) byVariant.set(variant, driver);
  const logins = new Map<string, HostedLogin>();
  let pending = 0;
  let closed = false;

  function lookup(key: string): HostedLogin {
    const login = logins.get(key);
    if (!login) throw new AppError("no_client_session", { detail: "This process holds no provider session for the intent (it ended long ago, or the process restarted).", metadata: { intentId: key } });
    return login;
  }

  function finished(login: HostedLogin): void {
    pending--;
    // Kept a while for late readers, then forgotten, and the session material with it.
    setTimeout(() => logins.get(login.key) === login && logins.delete(login.key), options.retainMs ?? DEFAULT_RETAIN_MS).unref();
  }

  /** Runs a driver call, the caller's abort winning. */
  function withSignal<T>(work: Promise<T>, call: InteractiveCall): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => reject(call.signal.reason);
      if (call.signal.aborted) return onAbort();
      call.signal.addEventListener("abort", onAbort, { once: true });
      work.then(resolve, reject).finally(() => call.signal.removeEventListener("abort", onAbort));
    });
  }

  return {
    kind: "interactive",
    variants: [...byVariant.keys()],
    get pendingSessions() {
      return pending;
    },

    async start(input: StartInput, call: InteractiveCall): Promise<AuthState> {
      const existing = logins.get(input.intentId);
      if (existing) return existing.current();
      const variant = input.request.variant;
      const driver = variant.case ? byVariant.get(variant.case) : undefined;
      if (!driver || !variant.case) throw new AppError("no_handler", { detail: `No driver runs the ${variant.case ?? "unset"} variant here.` });
      if (closed) throw new AppError("service_unavailable", { detail: "This process is shutting down." });
      if (pending >= options.maxPendingSessions) {
        call.log.warn({ pending, max: options.maxPendingSessions }, "provider session limit reached");
        throw new AppError("service_unavailable", { detail: `This process already runs ${options.maxPendingSessions} pending provider logins (DRIVER_MAX_PENDING_SESSIONS).`, retryAfterMs: 5_000 });
      }
      const log = options.log.child({ intentId: input.intentId, accountId: input.accountId, variant: variant.case });
      const login = new HostedLogin(input.intentId, log, options.sessionTtlMs, finished);
      logins.set(input.intentId, login);
      pending++;
      try {
        // Drivers take the service's own credentials type (a web login and its proxy), as the gateway contract carries it.
        const { credentials, settings } = credentialsOfRequest(input.request);
        if (credentials.family.case !== "webLogin") throw new AppError("no_handler", { detail: `The ${variant.case} variant is not a provider login.` });
        const shared = { country: settings.country, ip: settings.ip };
        login.attach(driver.begin({ key: input.intentId, login: credentials.family.value, proxy: credentials.proxy, shared, log, onState: (state) => login.report(state) }));
      } catch (error) {
        // The driver refused to begin (e.g. Telegram without its API credentials): nothing to keep.
        logins.delete(input.intentId);
        pending--;
        throw error;
      }
      log.info("provider login started");
      const first = await login.firstOutcome(call.signal);
      if (first.status === "FAILED" && first.retryAfterMs) {
        // The provider said when to try again (a flood wait): the caller gets it as RetryInfo.
        throw new AppError(first.errorKind ?? "provider_error", { retryAfterMs: first.retryAfterMs });
      }
      return first;
    },

    async solve(key, code, call) {
      const login = lookup(key);
      if (login.final || !login.driver) throw new AppError("no_pending_checkpoint");
      await withSignal(login.driver.solve(code, call.signal), call);
      return login.current();
    },

    async resend(key, call) {
      const login = lookup(key);
      if (login.final || !login.driver) throw new AppError("no_pending_checkpoint");
      await withSignal(login.driver.resend(call.signal), call);
      return login.current();
    },

    async cancel(key) {
      const login = logins.get(key);
      if (!login) return { status: "CANCELED", version: 0 };
      await login.end({ status: "CANCELED" });
      return login.current();
    },

    async get(key) {
      return lookup(key).current();
    },

    async *events(key, signal): AsyncGenerator<AuthEvent> {
      const login = lookup(key);
      const queue: AuthEvent[] = [];
      let wake: (() => void) | undefined;
      const off = login.subscribe((event) => {
        queue.push(event);
        wake?.();
      });
      const onAbort = () => wake?.();
      signal.addEventListener("abort", onAbort);
      try {
        const snapshot = login.current();
        yield { kind: "SNAPSHOT", state: snapshot };
        // Judged on the snapshot: a change queued meanwhile (even a final one) is still to come.
        if (FINAL_AUTH_STATUSES.has(snapshot.status)) return;
        while (!signal.aborted) {
          const next = queue.shift();
          if (!next) {
            await new Promise<void>((resolve) => (wake = resolve));
            wake = undefined;
            continue;
          }
          yield next;
          if (FINAL_AUTH_STATUSES.has(next.state.status)) return;
        }
      } finally {
        off();
        signal.removeEventListener("abort", onAbort);
      }
    },

    async close() {
      closed = true;
      const open = [...logins.values()].filter((login) => !login.final);
      if (open.length > 0) options.log.info({ sessions: open.length }, "closing provider logins");
      await Promise.all(open.map((login) => login.end({ status: "CANCELED" })));
    },
  };
}
