import { AppError } from "../../errors/app-error.ts";
import type { AccountRecord, IntentRecord, Store } from "../../store/store.ts";
import type { CheckpointInfo } from "../connectors/interactive.ts";
import type { Dispatched } from "./engine/shell/engine.ts";

/** What ConnectAccount, SolveCheckpoint and ResendCheckpoint end in. */
export type ConnectOutcome =
  | { kind: "created"; account: AccountRecord }
  | { kind: "checkpoint"; accountId: string; checkpoint: CheckpointInfo };

/** A missing account and another workspace's answer alike. */
export function notFound(accountId: string): AppError {
  return new AppError("not_found", { metadata: { accountId } });
}

export function shuttingDown(): AppError {
  return new AppError("service_unavailable", { detail: "This replica is shutting down: call again (another replica carries the intent on)." });
}

/** A dispatch's reply as the caller gets it: the outcome, or the error thrown. */
export async function outcomeOf(store: Store, dispatched: Dispatched): Promise<ConnectOutcome> {
  const { reply, record } = dispatched;
  if (!reply) throw new AppError("unexpected_error", { detail: "command without a reply" });
  switch (reply.type) {
    case "checkpoint":
      return { kind: "checkpoint", accountId: record.accountId, checkpoint: reply.checkpoint };
    case "account": {
      const account = dispatched.account ?? (await store.getAccount(record.workspaceId, record.accountId));
      if (!account || account.status === "DELETED") throw notFound(record.accountId);
      return { kind: "created", account };
    }
    case "callError":
      throw dispatched.error;
    case "error":
      throw new AppError(reply.kind, { metadata: reply.metadata, ...(reply.detail ? { detail: reply.detail } : {}), ...(reply.retryAfterMs !== undefined ? { retryAfterMs: reply.retryAfterMs } : {}) });
    case "canceled":
      throw new AppError("unexpected_error", { detail: "a cancel reply to a connect command" });
  }
}
