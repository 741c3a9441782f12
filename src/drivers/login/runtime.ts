import { setTimeout as sleep } from "node:timers/promises";
import { AppError, isAppError } from "../../errors/app-error.ts";
import { FINAL_AUTH_STATUSES, type AuthState, type CheckpointInfo, type ProviderSession } from "../../domain/connectors/interactive.ts";
import type { ProviderIdentity } from "../../store/store.ts";
import type { DriverInput, DriverLogin } from "../driver.ts";

/**
 * The state machine every web driver shares. A driver writes its login as one async
 * function (a LoginFlow) that calls the provider and, where the provider stops at a
 * challenge, awaits the person through `askCode` or `awaitApproval`; this runtime turns it
 * into a DriverLogin: states, solve/resend/cancel, checkpoint expiry, and cleanup.
 */
export interface LoginOutcome {
  identity: ProviderIdentity;
  session: ProviderSession;
  details?: Record<string, string>;
}

export interface CodeCheckpoint<T> {
  info: Omit<CheckpointInfo, "expiresAt">;
  /** Tries the person's code: the value the login goes on with, or throws invalid_checkpoint_code (the checkpoint stays open). */
  attempt(code: string): Promise<T>;
  /** Has the provider send a new code; absent where the provider cannot (an authenticator app). */
  resend?(): Promise<Partial<CheckpointInfo> | void>;
}

export interface ApprovalCheckpoint<T> {
  info: Omit<CheckpointInfo, "expiresAt">;
  /** Asks the provider whether the person approved: a value once they did, undefined while waiting. */
  poll(): Promise<T | undefined>;
}

export interface LoginContext {
  /** Aborted when the login is canceled or expires: pass it on, stop work. */
  signal: AbortSignal;
  askCode<T>(checkpoint: CodeCheckpoint<T>): Promise<T>;
  awaitApproval<T>(checkpoint: ApprovalCheckpoint<T>): Promise<T>;
  /** Runs when the login ends, however it ends (closes the session's connections). */
  onEnd(release: () => Promise<void>): void;
}

export type LoginFlow = (context: LoginContext) => Promise<LoginOutcome>;

export interface RuntimeSettings {
  /** How long a checkpoint stays open before the login ends EXPIRED. */
  checkpointTtlMs: number;
  /** How often an approval in the provider's app is polled. */
  approvalPollMs: number;
}

interface OpenCode {
  checkpoint: CodeCheckpoint<unknown>;
  resolve(value: unknown): void;
  reject(error: unknown): void;
  busy: boolean;
}

export function startLogin(input: DriverInput, flow: LoginFlow, settings: RuntimeSettings): DriverLogin {
  const releases: Array<() => Promise<void>> = [];
  const cleanup = async () => {
    for (const release of releases.splice(0)) await release();
  };
  const controller = new AbortController();
  let state: AuthState = { status: "PENDING", version: 0 };
  let open: OpenCode | undefined;
  let expiry: NodeJS.Timeout | undefined;
  const changeWaiters: Array<(s: AuthState) => void> = [];

  const emit = (next: AuthState) => {
    if (FINAL_AUTH_STATUSES.has(state.status)) return;
    state = next;
    input.onState(next);
    if (next.status !== "PENDING") for (const wake of changeWaiters.splice(0)) wake(next);
    if (FINAL_AUTH_STATUSES.has(next.status)) {
      clearTimeout(expiry);
      open = undefined;
      controller.abort(new AppError("operation_canceled", { detail: `The login ended (${next.status}).` }));
      cleanup().catch((e: unknown) => input.log.warn({ errorName: e instanceof Error ? e.name : typeof e }, "driver cleanup failed"));
    }
  };
  const nextChange = () => new Promise<AuthState>((resolve) => changeWaiters.push(resolve));

  const raise = (info: Omit<CheckpointInfo, "expiresAt">) => {
    clearTimeout(expiry);
    const expiresAt = new Date(Date.now() + settings.checkpointTtlMs);
    expiry = setTimeout(() => {
      input.log.info({ checkpoint: info.type }, "checkpoint expired");
      emit({ status: "EXPIRED", version: 0 });
    }, settings.checkpointTtlMs);
    expiry.unref();
    emit({ status: "CHECKPOINT", version: 0, checkpoint: { ...info, expiresAt: expiresAt.toISOString() } });
    input.log.info({ checkpoint: info.type }, "checkpoint raised");
  };

  const context: LoginContext = {
    signal: controller.signal,
    askCode<T>(checkpoint: CodeCheckpoint<T>) {
      return new Promise<T>((resolve, reject) => {
        open = { checkpoint, resolve: resolve as (v: unknown) => void, reject, busy: false };
        raise(checkpoint.info);
      });
    },
    async awaitApproval<T>(checkpoint: ApprovalCheckpoint<T>) {
      raise(checkpoint.info);
      for (;;) {
        await sleep(settings.approvalPollMs, undefined, { signal: controller.signal });
        try {
          const value = await checkpoint.poll();
          if (value !== undefined) return value;
        } catch (e) {
          // A slow or briefly unreachable provider does not end the wait; its verdicts do.
          if (!(isAppError(e) && e.entry.retryable) || controller.signal.aborted) throw e;
          input.log.info({ kind: e.kind }, "approval poll failed, polling on");
        }
      }
    },
    onEnd(release) {
      releases.push(release);
    },
  };

  queueMicrotask(() => {
    flow(context).then(
      (outcome) => {
        if (FINAL_AUTH_STATUSES.has(state.status)) return;
        input.log.info({ providerUserId: outcome.identity.providerUserId }, "login connected");
        emit({ status: "CONNECTED", version: 0, identity: outcome.identity, session: outcome.session, ...(outcome.details ? { details: outcome.details } : {}) });
      },
      (e: unknown) => {
        if (FINAL_AUTH_STATUSES.has(state.status)) return;
        const error = isAppError(e) ? e : new AppError("unexpected_error", { cause: e });
        // The kind and metadata are safe; a foreign error's message may quote a provider's answer, so only its name is logged.
        input.log.info({ kind: error.kind, metadata: error.metadata, ...(isAppError(e) ? {} : { errorName: e instanceof Error ? e.name : typeof e }) }, "login failed");
        emit({ status: "FAILED", version: 0, errorKind: error.kind, ...(Object.keys(error.metadata).length ? { errorMetadata: error.metadata } : {}) });
      },
    );
  });
  input.onState(state);

  return {
    current: () => state,

    async solve(code, signal) {
      const pending = open;
      if (!pending) throw noPendingCheckpoint();
      if (pending.busy) throw new AppError("auth_in_progress", { detail: "A code for this checkpoint is being checked." });
      signal.throwIfAborted();
      pending.busy = true;
      // Hands the outcome to the waiting flow and answers the state it leads to.
      const carryOn = (hand: () => void): Promise<AuthState> => {
        if (FINAL_AUTH_STATUSES.has(state.status)) return Promise.resolve(state);
        const next = nextChange();
        open = undefined;
        hand();
        return next;
      };
      try {
        const value = await pending.checkpoint.attempt(code);
        return await carryOn(() => pending.resolve(value));
      } catch (e) {
        // A wrong code, or a failure worth retrying (timeout, proxy), leaves the checkpoint open.
        if (isAppError(e) && (e.kind === "invalid_checkpoint_code" || e.entry.retryable) && open === pending) throw e;
        return await carryOn(() => pending.reject(e));
      } finally {
        pending.busy = false;
      }
    },

    async resend(signal) {
      const pending = open;
      if (!pending?.checkpoint.resend) throw noPendingCheckpoint();
      signal.throwIfAborted();
      const update = await pending.checkpoint.resend();
      if (open !== pending) return state;
      raise({ ...pending.checkpoint.info, ...(update ?? {}) });
      return state;
    },

    async cancel() {
      emit({ status: "CANCELED", version: 0 });
    },
  };
}

function noPendingCheckpoint(): AppError {
  return new AppError("no_pending_checkpoint");
}

/** A provider's "wrong code" answer. */
export function wrongCode(provider: string): AppError {
  return new AppError("invalid_checkpoint_code", { detail: `${provider} did not accept the code.`, metadata: { provider } });
}
