import { intentFromRow, intentToRow } from "./rows.ts";
import type { Row, SqlExecutor } from "./sql.ts";
import { insert, insertOrFind } from "./sql-helpers.ts";
import type { IntentRecord, OpenIntentResult } from "./store.ts";

/**
 * Store.openIntent's transaction body, shared with openReconnectIntent (which opens the intent
 * in the same transaction as it marks the account RECONNECTING). The ids of the intents it
 * wrote (expired, canceled, inserted) go to `written`, to be announced once committed.
 */
export async function openIntentIn(tx: SqlExecutor, intent: IntentRecord, now: Date, restart: boolean, maxOpen: number | undefined, written: Row[]): Promise<OpenIntentResult> {
  const identity = [intent.workspaceId, intent.provider, intent.identityKey];
  const openForIdentity = "workspace_id = $1 AND provider = $2 AND identity_key = $3 AND closed_at IS NULL";
  written.push(...(await tx.query(`UPDATE intents SET ${closing(4, 5)} WHERE ${openForIdentity} AND expires_at <= $5 RETURNING id`, [...identity, "EXPIRED", now])));
  if (restart) written.push(...(await tx.query(`UPDATE intents SET ${closing(4, 5)} WHERE ${openForIdentity} RETURNING id`, [...identity, "CANCELED", now])));
  if (maxOpen !== undefined) {
    // No lock: opens in the same instant on PostgreSQL may pass the cap by as many as run at once
    // (a lock per workspace would serialize every connect of a busy workspace). SQLite has one writer: exact.
    // Counted up to the cap only: the cost of an open stays bounded however many are pending.
    const pending = "SELECT 1 FROM intents WHERE workspace_id = $1 AND closed_at IS NULL AND expires_at > $2 LIMIT $3";
    const [row] = await tx.query(`SELECT COUNT(*) AS n FROM (${pending}) AS pending`, [intent.workspaceId, now, maxOpen]);
    if (Number(row?.n ?? 0) >= maxOpen) return { tooMany: { limit: maxOpen } };
  }
  const outcome = await insertOrFind(
    tx,
    insert("intents", intentToRow(intent), "ON CONFLICT (workspace_id, provider, identity_key) WHERE closed_at IS NULL DO NOTHING RETURNING *"),
    [`SELECT * FROM intents WHERE ${openForIdentity}`, identity],
  );
  if ("inserted" in outcome) written.push(outcome.inserted);
  return "inserted" in outcome ? { opened: intentFromRow(outcome.inserted) } : { inProgress: intentFromRow(outcome.existing) };
}

/** The SET list that ends an intent; its waiting secrets go too, they only served the flow. */
export function closing(statusParam: number, atParam: number): string {
  return `status = $${statusParam}, closed_at = $${atParam}, updated_at = $${atParam}, secrets_key_id = NULL, secrets_envelope = NULL, revision = revision + 1`;
}
