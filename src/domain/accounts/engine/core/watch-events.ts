import type { CheckpointInfo } from "../../../connectors/interactive.ts";
import type { Intent } from "./intent.ts";
import { errorTypeOf } from "./replies.ts";

export type WatchEventKind = "PENDING" | "CHECKPOINT" | "CHECKPOINT_REFRESHED" | "CONNECTED" | "FAILED" | "CANCELED" | "EXPIRED";

/** One message of a watch: what the pending account's intent became. */
export interface WatchEvent {
  kind: WatchEventKind;
  accountId: string;
  checkpoint?: CheckpointInfo;
  /** FAILED, CANCELED, EXPIRED: the "errors/..." type calls on the intent now answer. */
  errorType?: string;
  /** Epoch milliseconds. */
  at: number;
}

/** What a watcher last reported. */
export interface Seen {
  status: Intent["status"];
  seq: number;
  type: string | undefined;
}

/** The event a watcher owes for `intent`, given what it reported last (none if nothing it can see changed). */
export function eventOf(intent: Intent, seen: Seen | undefined): { event: WatchEvent; seen: Seen } | undefined {
  const flow = intent.flow.flow === "interactive" ? intent.flow : undefined;
  const checkpoint = flow?.checkpoint ?? undefined;
  const now: Seen = { status: intent.status, seq: flow?.seq ?? 0, type: checkpoint?.type };
  const base = { accountId: intent.accountId, at: intent.closedAt ?? intent.updatedAt };
  switch (intent.status) {
    case "OPEN":
      return seen ? undefined : { event: { ...base, kind: "PENDING" }, seen: now };
    case "CHECKPOINT": {
      if (!checkpoint) return seen ? undefined : { event: { ...base, kind: "PENDING" }, seen: now };
      if (seen?.status === "CHECKPOINT" && seen.seq >= now.seq) return undefined;
      const kind = seen?.status === "CHECKPOINT" && seen.type === checkpoint.type ? "CHECKPOINT_REFRESHED" : "CHECKPOINT";
      return { event: { ...base, kind, checkpoint }, seen: now };
    }
    case "CONNECTED":
      return { event: { ...base, kind: "CONNECTED" }, seen: now };
    case "FAILED":
    case "CANCELED":
    case "EXPIRED":
      return { event: { ...base, kind: intent.status, errorType: errorTypeOf(intent) ?? "" }, seen: now };
  }
}
