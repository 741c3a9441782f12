import { catalogue } from "../../../../errors/catalogue.ts";
import type { Reply } from "./inputs.ts";
import type { Intent } from "./intent.ts";

/**
 * What a call on the intent answers once the intent is as it is. `fresh`: this very call led
 * there (its caller hears the failure itself); otherwise a failed intent answers
 * authentication_intent_error: it was killed after the failure, start again.
 */
export function replyOf(intent: Intent, fresh: boolean): Reply {
  const metadata = { accountId: intent.accountId };
  switch (intent.status) {
    case "CHECKPOINT":
      return intent.flow.flow === "interactive" && intent.flow.checkpoint
        ? { type: "checkpoint", checkpoint: intent.flow.checkpoint }
        : { type: "error", kind: "no_pending_checkpoint", metadata };
    case "CONNECTED":
      return { type: "account" };
    case "FAILED":
      if (fresh && intent.flow.duplicateOf) return { type: "error", kind: "already_exists", metadata: { accountId: intent.flow.duplicateOf } };
      if (fresh) return { type: "error", kind: intent.errorKind ?? "provider_error", metadata };
      return closedReply(intent);
    case "OPEN":
      return { type: "error", kind: "no_pending_checkpoint", metadata };
    case "CANCELED":
    case "EXPIRED":
      return closedReply(intent);
  }
}

/** What a call on an intent that has ended answers (CONNECTED: the account). */
export function closedReply(intent: Intent): Reply {
  const metadata = { accountId: intent.accountId };
  switch (intent.status) {
    case "CANCELED":
      return { type: "error", kind: "operation_canceled", metadata, detail: "The authentication intent was canceled." };
    case "EXPIRED":
      return { type: "error", kind: "intent_expired", metadata };
    case "FAILED":
      return { type: "error", kind: "authentication_intent_error", metadata: { ...metadata, failure: catalogue[intent.errorKind ?? "provider_error"].type } };
    case "CONNECTED":
      return { type: "account" };
    default:
      return { type: "error", kind: "no_pending_checkpoint", metadata };
  }
}

/** The "errors/..." type a closed intent stands for, as watch events report it. */
export function errorTypeOf(intent: Intent): string | undefined {
  switch (intent.status) {
    case "FAILED":
      return catalogue[intent.errorKind ?? "provider_error"].type;
    case "CANCELED":
      return catalogue.operation_canceled.type;
    case "EXPIRED":
      return catalogue.intent_expired.type;
    default:
      return undefined;
  }
}
