import { intentFromRow, intentToRow } from "./rows.ts";
import { revertReconnects, wasReconnection } from "./reconnect-status.ts";
import type { Row, SqlExecutor } from "./sql.ts";
import { first, insert, insertOrFind } from "./sql-helpers.ts";
import type { IntentRecord, OpenIntentResult } from "./store.ts";

const OPEN_FOR_IDENTITY = "workspace_id = $1 AND provider = $2 AND identity_key = $3 AND closed_at IS NULL";

/**
 * Store.openIntent's transaction body, shared with openReconnectIntent (which opens the intent
 * in the same transaction as it marks the account RECONNECTING). A reconnection's intent that it
 * expires or cancels puts its account's status back unless the intent it opens holds the account
 * again (revertReconnects, in this transaction). The intents it wrote (expired, canceled,
 * inserted) go to `written`, to be announced once committed. `bound` (SQLite) spares the
 * pending-intent count while the workspace is known to be under the cap.
 */
export async function openIntentIn(
  tx: SqlExecutor,
  intent: IntentRecord,
  now: Date,
  restart: boolean,
  maxOpen: number | undefined,
  written: Row[],
  bound?: PendingBound,
): Promise<OpenIntentResult> {
  const identity = [intent.workspaceId, intent.provider, intent.identityKey];
  const ended = await tx.query(`UPDATE intents SET ${closing(4, 5)} WHERE ${OPEN_FOR_IDENTITY} AND expires_at <= $5 RETURNING *`, [...identity, "EXPIRED", now]);
  if (restart) ended.push(...(await tx.query(`UPDATE intents SET ${closing(4, 5)} WHERE ${OPEN_FOR_IDENTITY} RETURNING *`, [...identity, "CANCELED", now])));
  written.push(...ended);
  const result = await capAndInsert(tx, intent, now, maxOpen, bound);
  if ("opened" in result) written.push({ id: result.opened.id });
  const reconnections = ended.map(intentFromRow).filter(wasReconnection).map((ended) => ended.accountId);
  if (reconnections.length > 0) await revertReconnects(tx, reconnections, now);
  return result;
}

async function capAndInsert(tx: SqlExecutor, intent: IntentRecord, now: Date, maxOpen: number | undefined, bound: PendingBound | undefined): Promise<OpenIntentResult> {
  if (maxOpen !== undefined && (bound?.mayBeAtCap(intent.workspaceId, maxOpen) ?? true)) {
    // No lock: opens in the same instant on PostgreSQL may pass the cap by as many as run at once
    // (a lock per workspace would serialize every connect of a busy workspace). SQLite has one writer: exact.
    // Counted up to the cap only: the cost of an open stays bounded however many are pending.
    const pending = "SELECT 1 FROM intents WHERE workspace_id = $1 AND closed_at IS NULL AND expires_at > $2 LIMIT $3";
    const [row] = await tx.query(`SELECT COUNT(*) AS n FROM (${pending}) AS pending`, [intent.workspaceId, now, maxOpen]);
    const open = Number(row?.n ?? 0);
    bound?.counted(intent.workspaceId, open);
    if (open >= maxOpen) return { tooMany: { limit: maxOpen } };
  }
  const identity = [intent.workspaceId, intent.provider, intent.identityKey];
  const outcome = await insertOrFind(
    tx,
    insert("intents", intentToRow(intent), "ON CONFLICT (workspace_id, provider, identity_key) WHERE closed_at IS NULL DO NOTHING RETURNING *"),
    [`SELECT * FROM intents WHERE ${OPEN_FOR_IDENTITY}`, identity],
  );
  if ("existing" in outcome) return { inProgress: intentFromRow(outcome.existing) };
  bound?.opened(intent.workspaceId);
  return { opened: intentFromRow(outcome.inserted) };
}

/**
 * SQLite: counting a workspace's open intents costs as many as there are (a burst of thousands:
 * most of each open's time). Only the server's store opens intents in the embedded file, so the
 * count since the last one can only have grown by what this store opened (ConnectAccount's and
 * ReconnectAccount's opens alike): while that bound stays under the cap there is nothing to count.
 * It only overestimates (closes, expiries, a transaction rolled back), and a bound at the cap is
 * counted exactly again.
 */
export class PendingBound {
  private readonly openAtMost = new Map<string, number>();

  mayBeAtCap(workspaceId: string, maxOpen: number): boolean {
    const bound = this.openAtMost.get(workspaceId);
    return bound === undefined || bound >= maxOpen;
  }

  counted(workspaceId: string, open: number): void {
    this.openAtMost.set(workspaceId, open);
  }

  opened(workspaceId: string): void {
    const bound = this.openAtMost.get(workspaceId);
    if (bound !== undefined) this.openAtMost.set(workspaceId, bound + 1);
  }
}

/** The SET list that ends an intent; its waiting secrets go too, they only served the flow. */
export function closing(statusParam: number, atParam: number): string {
  return `status = $${statusParam}, ${closedColumns(`$${atParam}`)}`;
}

/** closing() without the status (a statement that sets it otherwise). */
export function closedColumns(at: string): string {
  return `closed_at = ${at}, updated_at = ${at}, secrets_key_id = NULL, secrets_envelope = NULL, revision = revision + 1`;
}

/**
 * Closes an open, unexpired intent CONNECTED (insertAccount, reconnectAccount). Closing it
 * first takes its row lock, so a concurrent restart or close waits for the caller's transaction
 * (or it for theirs). Undefined once closed; otherwise the caller's answer: the intent as it is
 * now, or null if there is none.
 */
export async function closeConnected(tx: SqlExecutor, intentId: string, workspaceId: string, now: Date): Promise<{ intentGone: IntentRecord | null } | undefined> {
  const closed = await tx.query(
    `UPDATE intents SET ${closing(3, 4)} WHERE id = $1 AND workspace_id = $2 AND closed_at IS NULL AND expires_at > $4 RETURNING id`,
    [intentId, workspaceId, "CONNECTED", now],
  );
  if (closed.length > 0) return undefined;
  const gone = await tx.query("SELECT * FROM intents WHERE id = $1 AND workspace_id = $2", [intentId, workspaceId]);
  return { intentGone: first(gone, intentFromRow) ?? null };
}
