import { AppError } from "../../errors/app-error.ts";
import { catalogue, type ErrorKind } from "../../errors/catalogue.ts";
import type { IntentRecord } from "../../store/store.ts";
import type { VariantCase } from "../connectors/connector.ts";
import type { CheckpointInfo } from "../connectors/interactive.ts";

/**
 * What an intent of an interactive (gateway-backed) flow keeps in intents.state, so that any
 * replica can carry it on: which connector, the gateway's key, and the checkpoint now waiting.
 * No secret: the request's secrets are in intents.secrets, sealed under the intent id.
 */
export interface InteractiveIntentState {
  flow: "interactive";
  /** The request variant: picks the connector (the same on every replica, from configuration). */
  variant: VariantCase;
  /** The gateway's key for the authentication (our intent id). */
  key: string;
  /** The gateway's version of the state last applied: older snapshots are dropped. */
  version: number;
  /** Grows whenever the stored checkpoint changes, so watchers see each change once. */
  seq: number;
  checkpoint: CheckpointInfo | null;
}

export function interactiveStateOf(intent: IntentRecord): InteractiveIntentState | undefined {
  const s = intent.state;
  if (!s || s.flow !== "interactive" || typeof s.variant !== "string" || typeof s.key !== "string") return undefined;
  return {
    flow: "interactive",
    variant: s.variant as VariantCase,
    key: s.key,
    version: typeof s.version === "number" ? s.version : 0,
    seq: typeof s.seq === "number" ? s.seq : 0,
    checkpoint: (s.checkpoint as CheckpointInfo | null | undefined) ?? null,
  };
}

export function isOpen(intent: IntentRecord): boolean {
  return intent.status === "OPEN" || intent.status === "CHECKPOINT";
}

/** The catalogue kind stored with a FAILED intent (anything else, from an older build, is a provider error). */
export function failureKindOf(intent: IntentRecord): ErrorKind {
  const kind = intent.errorKind;
  return kind && kind in catalogue ? (kind as ErrorKind) : "provider_error";
}

/** The "errors/..." type a closed intent stands for, as watch events report it. */
export function errorTypeOf(intent: IntentRecord): string | undefined {
  switch (intent.status) {
    case "FAILED":
      return catalogue[failureKindOf(intent)].type;
    case "CANCELED":
      return catalogue.operation_canceled.type;
    case "EXPIRED":
      return catalogue.intent_expired.type;
    default:
      return undefined;
  }
}

/**
 * What a call on an intent that has already ended answers (CONNECTED is not an error: the
 * caller gets the account). A failed intent answers authentication_intent_error: it was killed
 * after the failure and the person must start again; the failure's own type rides along.
 */
export function closedIntentError(intent: IntentRecord): AppError {
  const metadata = { accountId: intent.accountId };
  switch (intent.status) {
    case "CANCELED":
      return new AppError("operation_canceled", { detail: "The authentication intent was canceled.", metadata });
    case "EXPIRED":
      return new AppError("intent_expired", { metadata });
    case "FAILED":
      return new AppError("authentication_intent_error", { metadata: { ...metadata, failure: catalogue[failureKindOf(intent)].type } });
    default:
      return new AppError("no_pending_checkpoint", { metadata });
  }
}
