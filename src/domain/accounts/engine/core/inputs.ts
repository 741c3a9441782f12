import type { ErrorKind } from "../../../../errors/catalogue.ts";
import type { ProviderIdentity } from "../../../../store/store.ts";
import type { AuthState, CheckpointInfo, ProviderSession } from "../../../connectors/interactive.ts";
import type { Intent } from "./intent.ts";

/** Everything that can happen to an intent. Time is not read by the core: step() gets `at`. */
export type Input =
  // Commands: what a caller asks for.
  | { type: "begin" }
  | { type: "solve"; code: string }
  | { type: "resend" }
  | { type: "cancel" }
  /** A ConnectAccount with restart=true for the same identity replaces this intent. */
  | { type: "restart" }
  // Provider events: what the provider side reported (a gateway, a driver, a one-shot connector).
  | ({ type: "pending"; version: number } & Reported)
  /** A new checkpoint, or the same one refreshed (a rotated QR code, a resent code). */
  | ({ type: "checkpoint"; version: number; checkpoint: CheckpointInfo } & Reported)
  | ({ type: "connected"; version: number; login: Login } & Reported)
  /** `retryAfterMs` and `metadata` reach the caller whose call led there (its error's RetryInfo and metadata); not stored. */
  | ({ type: "failed"; version: number; errorKind: ErrorKind; retryAfterMs?: number; metadata?: Record<string, string> } & Reported)
  /** The provider side gave the login up on its own. */
  | ({ type: "ended"; version: number; status: "CANCELED" | "EXPIRED" } & Reported)
  // What the shell's own effects ran into.
  | { type: "callFailed"; call: ProviderCall; errorKind: ErrorKind }
  /** createAccount found the provider identity already linked in the workspace. */
  | { type: "duplicate"; accountId: string }
  /** A reconnection's login cannot replace the account's credentials: another provider identity, or the account was deleted. */
  | { type: "refused"; errorKind: "account_mismatch" | "not_found" }
  // Ticks.
  /** The intent's expiry passed. `probed`: the provider side was asked how it stands first (or could not say). */
  | { type: "expiry"; probed: boolean };

/** What every provider-side report may carry besides its state. */
export interface Reported {
  /** The gateway replica that holds the session: kept on the intent, so later calls go there. */
  replica?: string;
}

/** Which provider-side call failed: "follow" and "probe" are background work no caller waits on. */
export type ProviderCall = "start" | "solve" | "resend" | "follow" | "probe";

/** Who logged in, and what to keep with the account. `session` and `updatedSecrets` are secrets: sealed, never stored in the intent. */
export interface Login {
  identity: ProviderIdentity;
  details?: Record<string, string>;
  session?: ProviderSession;
  updatedSecrets?: Record<string, string>;
  /** Epoch milliseconds. */
  accessTokenExpiresAt?: number;
}

/** What the shell must do after a step; it writes the new intent (compare-and-set) first. */
export type Effect =
  /** Start the login at the provider side (a connector's connect or start). */
  | { type: "start" }
  | { type: "solve"; code: string }
  | { type: "resend" }
  /** Ask the provider side how the login stands, and step its answer in. */
  | { type: "probe" }
  /** Seal the request (and session) under the account id, insert the account (a reconnection: replace its credentials), close the intent CONNECTED, in one transaction. */
  | { type: "createAccount"; login: Login }
  /** Tell the provider side to drop a login we no longer want (best effort). */
  | { type: "cancelRemote" };

/** What the caller of a command gets, when the core can tell without a provider answer. */
export type Reply =
  | { type: "account" }
  | { type: "checkpoint"; checkpoint: CheckpointInfo }
  | { type: "canceled" }
  | { type: "error"; kind: ErrorKind; metadata: Record<string, string>; detail?: string; retryAfterMs?: number }
  /** The provider call's own error is the answer. */
  | { type: "callError" };

export interface Transition {
  /** The same object when nothing changed: the shell writes only a different one. */
  intent: Intent;
  effects: Effect[];
  /** Set for commands the core can answer now; absent while a provider call decides. */
  reply?: Reply;
}

/** The engine's constants, given to step() rather than read from configuration by it. */
export interface Rules {
  /** Life of a checkpoint the provider gives no expiry. */
  ttlMs: number;
  /** A "connected" that arrives after our own expiry (nobody ended the intent yet) gets this long to be recorded. */
  lateOutcomeGraceMs: number;
}

/** A provider-side state report as the step input it stands for. */
export function inputOfReport(state: AuthState): Input {
  const input = reportOf(state);
  return state.replica ? { ...input, replica: state.replica } : input;
}

function reportOf(state: AuthState): Extract<Input, Reported & { version: number }> {
  switch (state.status) {
    case "PENDING":
      return { type: "pending", version: state.version };
    case "CHECKPOINT":
      return state.checkpoint ? { type: "checkpoint", version: state.version, checkpoint: state.checkpoint } : { type: "pending", version: state.version };
    case "CONNECTED":
      if (!state.identity) return { type: "failed", version: state.version, errorKind: "provider_error" };
      return {
        type: "connected",
        version: state.version,
        login: { identity: state.identity, ...(state.details ? { details: state.details } : {}), ...(state.session ? { session: state.session } : {}) },
      };
    case "FAILED":
      return {
        type: "failed",
        version: state.version,
        errorKind: state.errorKind ?? "provider_error",
        ...(state.retryAfterMs !== undefined ? { retryAfterMs: state.retryAfterMs } : {}),
        ...(state.errorMetadata ? { metadata: state.errorMetadata } : {}),
      };
    case "CANCELED":
    case "EXPIRED":
      return { type: "ended", version: state.version, status: state.status };
  }
}
