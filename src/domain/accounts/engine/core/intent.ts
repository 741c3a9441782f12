import type { ErrorKind } from "../../../../errors/catalogue.ts";
import type { IntentStatus } from "../../../../store/store.ts";
import type { VariantCase } from "../../../connectors/connector.ts";
import type { CheckpointInfo } from "../../../connectors/interactive.ts";

/**
 * An authentication intent as the engine's core sees it: plain data, no Date, no I/O. The
 * shell builds it from the store's record (the flow state validated on the way, see
 * flow-state.ts) and writes back whatever step() returns.
 */
export interface Intent {
  id: string;
  accountId: string;
  status: IntentStatus;
  /** Epoch milliseconds, as every time here. */
  expiresAt: number;
  updatedAt: number;
  /** Set when the intent ends (any status but OPEN / CHECKPOINT). */
  closedAt: number | null;
  /** The catalogue kind a FAILED intent ended with. */
  errorKind: ErrorKind | null;
  flow: FlowState;
  /** The store's compare-and-set counter: grows with every write. The core carries it, never changes it. */
  revision: number;
}

/** What kind of login the intent carries, and what it needs to go on. Stored as intents.state. */
export type FlowState = (OneShotFlow | InteractiveFlow) & Reconnecting;

/** Set on a ReconnectAccount's intent: its login replaces the credentials of the existing account accountId. */
export interface Reconnecting {
  reconnect?: true;
}

/** Mail, Google, Outlook: the provider answers once. */
export interface OneShotFlow {
  flow: "one_shot";
  /** Set when the provider identity is already linked (the intent ended FAILED already_exists). */
  duplicateOf?: string;
}

/** A provider session (gateway or driver) that may stop at checkpoints. */
export interface InteractiveFlow {
  flow: "interactive";
  /** Picks the connector (the same on every replica, from configuration). */
  variant: VariantCase;
  /** The connector's key for the login (our intent id). */
  key: string;
  /** The provider side's version of the state last applied: older reports are dropped. */
  version: number;
  /** Grows whenever the checkpoint changes, so watchers see each change once. */
  seq: number;
  checkpoint: CheckpointInfo | null;
  duplicateOf?: string;
  /** Behind replicated gateways: the replica holding the provider session (AuthState.replica); later calls go there. */
  replica?: string;
}

const OPEN_STATUSES: ReadonlySet<IntentStatus> = new Set(["OPEN", "CHECKPOINT"]);

export function isOpen(intent: Pick<Intent, "status">): boolean {
  return OPEN_STATUSES.has(intent.status);
}

/** Open, but past its expiry at `at`. */
export function isDue(intent: Pick<Intent, "status" | "expiresAt">, at: number): boolean {
  return isOpen(intent) && intent.expiresAt <= at;
}
