import { newId } from "../ids.ts";
import { eventTypesFromColumn } from "./event-rows.ts";
import { insert } from "./sql-helpers.ts";
import type { SqlDriver, SqlExecutor } from "./sql.ts";
import type { EventType, StatusChange } from "./store.ts";

export interface NewEvent {
  workspaceId: string;
  accountId: string;
  type: EventType;
  change: StatusChange | null;
  at: Date;
}

/** Any fixed number: the first key of the per-workspace advisory lock (the second is the workspace's hash). */
const EVENT_LOCK_SPACE = 1_702;

/**
 * Writes an event inside the caller's transaction (the outbox: it commits or rolls back with
 * the change it announces), and one pending delivery for each enabled webhook endpoint of the
 * workspace that wants its type.
 *
 * On PostgreSQL a sequence value is taken at INSERT but seen at COMMIT, so a reader could see
 * seq 8 before seq 7 commits and skip 7 for good. The per-workspace transaction lock makes
 * the workspace's events commit in seq order: a stream that resumes after a cursor misses
 * nothing. SQLite has one writer at a time already.
 */
export async function appendEvent(tx: SqlExecutor, kind: SqlDriver["kind"], event: NewEvent): Promise<void> {
  if (kind === "postgres") await tx.query("SELECT pg_advisory_xact_lock($1, hashtext($2))", [EVENT_LOCK_SPACE, event.workspaceId]);
  const row = {
    id: newId("evt_"),
    workspace_id: event.workspaceId,
    account_id: event.accountId,
    type: event.type,
    data: JSON.stringify(event.change ? { change: event.change } : {}),
    created_at: event.at,
  };
  const [inserted] = await tx.query(...insert("events", row, "RETURNING seq"));
  const endpoints = await tx.query("SELECT id, event_types FROM webhook_endpoints WHERE workspace_id = $1 AND status = 'ENABLED'", [event.workspaceId]);
  for (const endpoint of endpoints) {
    const types = eventTypesFromColumn(endpoint.event_types);
    if (types.length > 0 && !types.includes(event.type)) continue;
    await tx.query(
      ...insert("webhook_deliveries", {
        id: newId("whd_"),
        workspace_id: event.workspaceId,
        endpoint_id: String(endpoint.id),
        event_seq: Number(inserted!.seq),
        status: "PENDING",
        next_attempt_at: event.at,
        created_at: event.at,
      }),
    );
  }
}
