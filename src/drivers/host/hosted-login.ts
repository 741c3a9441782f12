import type { Logger } from "pino";
import { FINAL_AUTH_STATUSES, type AuthEvent, type AuthEventKind, type AuthState } from "../../domain/connectors/interactive.ts";
import type { DriverLogin } from "../driver.ts";

/** What an event says of a new state, given the one before it. */
function eventKindOf(previous: AuthState | undefined, next: AuthState): AuthEventKind {
  switch (next.status) {
    case "CHECKPOINT":
      // The same kind of checkpoint again is a renewal (rotated QR code, code sent again).
      return previous?.status === "CHECKPOINT" && previous.checkpoint?.type === next.checkpoint?.type ? "CHECKPOINT_REFRESHED" : "CHECKPOINT";
    case "PENDING":
      return "SNAPSHOT";
    default:
      return next.status;
  }
}

/**
 * One driver login as a host keeps it: the latest state (versioned here, so every host
 * numbers alike), its followers, and a lifetime. A login still pending when `ttlMs` passes is
 * canceled and EXPIRED: no socket outlives the longest an intent may wait.
 */
export class HostedLogin {
  readonly key: string;
  readonly log: Logger;
  private state: AuthState = { status: "PENDING", version: 0 };
  private readonly listeners = new Set<(event: AuthEvent) => void>();
  private driverLogin: DriverLogin | undefined;
  private readonly expiry: NodeJS.Timeout;
  private readonly onFinal: (login: HostedLogin) => void;

  constructor(key: string, log: Logger, ttlMs: number, onFinal: (login: HostedLogin) => void) {
    this.key = key;
    this.log = log;
    this.onFinal = onFinal;
    this.expiry = setTimeout(() => void this.end({ status: "EXPIRED", errorKind: "intent_expired" }), ttlMs);
    this.expiry.unref();
  }

  attach(login: DriverLogin): void {
    this.driverLogin = login;
  }

  get driver(): DriverLogin | undefined {
    return this.driverLogin;
  }

  current(): AuthState {
    return this.state;
  }

  get final(): boolean {
    return FINAL_AUTH_STATUSES.has(this.state.status);
  }

  /** A state the driver reported; nothing changes once final (a host-side expiry or cancel wins). */
  report(reported: AuthState): void {
    if (this.final) return;
    const previous = this.state;
    this.state = { ...reported, version: previous.version + 1 };
    const event: AuthEvent = { kind: eventKindOf(previous, this.state), state: this.state };
    for (const listener of this.listeners) listener(event);
    if (this.final) {
      clearTimeout(this.expiry);
      this.log.info({ status: this.state.status, errorKind: this.state.errorKind }, "provider login ended");
      this.onFinal(this);
    }
  }

  /** Ends the login here (canceled, expired, host closing) and closes its sockets. */
  async end(outcome: Omit<AuthState, "version">): Promise<void> {
    this.report({ ...outcome, version: 0 });
    clearTimeout(this.expiry);
    await this.driverLogin?.cancel().catch((error: unknown) => this.log.warn({ err: { message: (error as Error).message } }, "closing a provider login failed"));
  }

  /** Resolves once the login leaves PENDING (or `signal` aborts). */
  firstOutcome(signal: AbortSignal): Promise<AuthState> {
    return new Promise((resolve) => {
      const done = () => {
        off();
        signal.removeEventListener("abort", done);
        resolve(this.state);
      };
      const off = this.subscribe(() => done());
      if (this.state.status !== "PENDING" || signal.aborted) done();
      else signal.addEventListener("abort", done, { once: true });
    });
  }

  subscribe(listener: (event: AuthEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
