import type { ErrorKind } from "../../../../errors/catalogue.ts";
import type { CheckpointInfo } from "../../../connectors/interactive.ts";
import type { Effect, Input, ProviderCall, Rules, Transition } from "./inputs.ts";
import { isDue, isOpen, type Intent, type InteractiveFlow } from "./intent.ts";
import { closedReply, replyOf } from "./replies.ts";

/** Provider-side errors after which the login cannot go on (and there is nothing left to cancel there). */
const SESSION_GONE: ReadonlySet<ErrorKind> = new Set(["no_client_session", "no_handler"]);
/** A start that failed with these reached no provider session: nothing to cancel. */
const NOTHING_STARTED: ReadonlySet<ErrorKind> = new Set(["no_channel", "no_handler", "no_client_session"]);

/**
 * The intent engine's rules, all of them: what each input does to an intent, what must
 * happen because of it, and what a command's caller gets. Pure: no I/O, no clock, no
 * timers. Idempotent on what the store must settle between replicas: a provider event
 * applied twice, or after the intent ended, changes nothing the second time.
 */
export function step(intent: Intent, input: Input, at: number, rules: Rules): Transition {
  if ("replica" in input && input.replica) intent = onReplica(intent, input.replica, at);
  switch (input.type) {
    case "begin":
      // Only a fresh intent starts; anything else is a no-op answered by what the intent is.
      if (intent.status !== "OPEN" || (intent.flow.flow === "interactive" && intent.flow.version > 0)) return still(intent, replyOf(intent, false));
      return { intent, effects: [{ type: "start" }] };

    case "solve":
    case "resend": {
      if (!isOpen(intent)) return still(intent, replyOf(intent, false));
      if (isDue(intent, at)) return close(intent, "EXPIRED", "intent_expired", at, closedReplyAfter);
      if (intent.flow.flow !== "interactive" || intent.status !== "CHECKPOINT") return still(intent, noPendingCheckpoint(intent));
      return { intent, effects: [input.type === "solve" ? { type: "solve", code: input.code } : { type: "resend" }] };
    }

    case "cancel":
      if (intent.status === "CANCELED") return still(intent, { type: "canceled" });
      if (!isOpen(intent)) return still(intent, closedReply(intent));
      return close(intent, "CANCELED", "operation_canceled", at, () => ({ type: "canceled" }));

    case "restart":
      return isOpen(intent) ? close(intent, "CANCELED", "operation_canceled", at) : still(intent);

    case "pending":
      return still(intent);

    case "checkpoint": {
      const flow = openInteractive(intent, input.version);
      if (!flow) return still(intent);
      const changed = !sameCheckpoint(input.checkpoint, flow.checkpoint);
      if (!changed && intent.status === "CHECKPOINT") return still(intent);
      // The intent lives as long as its checkpoint (a rotating QR code keeps pushing it on).
      const expiresAt = input.checkpoint.expiresAt ? Date.parse(input.checkpoint.expiresAt) : at + rules.ttlMs;
      const next: InteractiveFlow = { ...flow, version: input.version, seq: flow.seq + (changed ? 1 : 0), checkpoint: input.checkpoint };
      return { intent: { ...intent, status: "CHECKPOINT", flow: next, expiresAt, updatedAt: at }, effects: [] };
    }

    case "connected": {
      if (!isOpen(intent) || isStale(intent, input.version)) return still(intent);
      // The provider's "connected" is a fact: it beats our own expiry as long as nobody ended the intent.
      const next = intent.expiresAt <= at ? { ...intent, expiresAt: at + rules.lateOutcomeGraceMs, updatedAt: at } : intent;
      return { intent: next, effects: [{ type: "createAccount", login: input.login }] };
    }

    case "failed":
      if (!isOpen(intent) || isStale(intent, input.version)) return still(intent);
      return closeQuietly(intent, "FAILED", input.errorKind, at);

    case "ended":
      if (!isOpen(intent) || isStale(intent, input.version)) return still(intent);
      return closeQuietly(intent, input.status, input.status === "CANCELED" ? "operation_canceled" : "intent_expired", at);

    case "callFailed":
      return callFailed(intent, input.call, input.errorKind, at);

    case "duplicate": {
      if (!isOpen(intent)) return still(intent);
      const failed = close(intent, "FAILED", "already_exists", at);
      return { ...failed, intent: { ...failed.intent, flow: { ...failed.intent.flow, duplicateOf: input.accountId } } };
    }

    case "refused":
      return isOpen(intent) ? close(intent, "FAILED", input.errorKind, at) : still(intent);

    case "expiry":
      if (!isDue(intent, at)) return still(intent);
      // The provider side may have a refreshed checkpoint or the outcome we missed: ask first.
      if (intent.flow.flow === "interactive" && !input.probed) return { intent, effects: [{ type: "probe" }] };
      return close(intent, "EXPIRED", "intent_expired", at);
  }
}

function callFailed(intent: Intent, call: ProviderCall, kind: ErrorKind, at: number): Transition {
  if (!isOpen(intent)) {
    // Ended meanwhile: by what this very call ran into (a follower heard of the same lost session), or by something else.
    if (intent.status === "FAILED" && intent.errorKind === kind) return still(intent, { type: "callError" });
    if (call === "start" && (intent.status === "FAILED" || intent.status === "CONNECTED")) return still(intent, { type: "callError" });
    return still(intent, background(call) ? undefined : replyOf(intent, false));
  }
  if (call === "start") {
    // A login that never got past its start is dead; one that may be running at the provider is canceled there.
    const failed = close(intent, "FAILED", kind, at, () => ({ type: "callError" }));
    return NOTHING_STARTED.has(kind) || intent.flow.flow === "one_shot" ? { ...failed, effects: [] } : failed;
  }
  if (SESSION_GONE.has(kind)) {
    const failed = closeQuietly(intent, "FAILED", kind, at);
    return background(call) ? failed : { ...failed, reply: { type: "callError" } };
  }
  // A wrong code, a provider timeout, a gateway down for a moment: the intent waits on.
  return still(intent, background(call) ? undefined : { type: "callError" });
}

function background(call: ProviderCall): boolean {
  return call === "follow" || call === "probe";
}

/** Ends an open intent; the provider side is told to drop the login (unless it ended it itself). */
function close(intent: Intent, status: "FAILED" | "CANCELED" | "EXPIRED", errorKind: ErrorKind, at: number, reply?: (closed: Intent) => Transition["reply"]): Transition {
  const closed: Intent = { ...intent, status, errorKind, closedAt: at, updatedAt: at };
  const effects: Effect[] = intent.flow.flow === "interactive" ? [{ type: "cancelRemote" }] : [];
  return { intent: closed, effects, ...(reply ? { reply: reply(closed) } : {}) };
}

function closeQuietly(intent: Intent, status: "FAILED" | "CANCELED" | "EXPIRED", errorKind: ErrorKind, at: number): Transition {
  return { ...close(intent, status, errorKind, at), effects: [] };
}

function closedReplyAfter(closed: Intent): Transition["reply"] {
  return closedReply(closed);
}

function still(intent: Intent, reply?: Transition["reply"]): Transition {
  return { intent, effects: [], ...(reply ? { reply } : {}) };
}

function noPendingCheckpoint(intent: Intent): Transition["reply"] {
  return { type: "error", kind: "no_pending_checkpoint", metadata: { accountId: intent.accountId } };
}

/** The open interactive flow a provider report at `version` may change, if any. */
function openInteractive(intent: Intent, version: number): InteractiveFlow | undefined {
  if (!isOpen(intent) || intent.flow.flow !== "interactive" || version < intent.flow.version) return undefined;
  return intent.flow;
}

function isStale(intent: Intent, version: number): boolean {
  return intent.flow.flow === "interactive" && version < intent.flow.version;
}

/** Field by field: the stored copy went through the database's JSON, which may reorder keys. */
function sameCheckpoint(a: CheckpointInfo, b: CheckpointInfo | null): boolean {
  if (!b) return false;
  const fields = ["type", "qrCode", "pairingCode", "captchaData", "codeSentTo", "expiresAt"] as const;
  return fields.every((f) => (a[f] ?? "") === (b[f] ?? ""));
}

/** An open interactive intent remembers the gateway replica a report came from (the session lives there). */
function onReplica(intent: Intent, replica: string, at: number): Intent {
  if (!isOpen(intent) || intent.flow.flow !== "interactive" || intent.flow.replica === replica) return intent;
  return { ...intent, flow: { ...intent.flow, replica }, updatedAt: at };
}
