import { newId } from "../ids.ts";
import { eventTypesFromColumn } from "./event-rows.ts";
import { builtOnce, insert } from "./sql-helpers.ts";
import type { SqlExecutor, SqlParam } from "./sql.ts";
import type { EventType, StatusChange } from "./store.ts";

export interface NewEvent {
  workspaceId: string;
  accountId: string;
  type: EventType;
  change: StatusChange | null;
  at: Date;
}

/**
 * Writes an event inside the caller's transaction (the outbox: it commits or rolls back with
 * the change it announces), and one pending delivery for each enabled webhook endpoint of the
 * workspace that wants its type.
 *
 * seq identifies the event (deliveries point at it); it is the stream's cursor on SQLite, whose
 * one writer commits events in seq order. On PostgreSQL, where seq is seen in commit order only
 * by chance, the stream's cursor is given after commit (event-numbering.ts), so nothing here
 * makes writers wait for each other.
 */
export async function appendEvent(tx: SqlExecutor, event: NewEvent): Promise<void> {
  const [inserted] = await tx.query(...insert("events", eventRow(event), "RETURNING seq"));
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

function eventRow(event: NewEvent): Record<string, SqlParam> {
  return {
    id: newId("evt_"),
    workspace_id: event.workspaceId,
    account_id: event.accountId,
    type: event.type,
    data: JSON.stringify(event.change ? { change: event.change } : {}),
    created_at: event.at,
  };
}

/** Crockford's base32, the ULID alphabet. */
const ULID_DIGITS = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/**
 * appendEvent as CTEs of one PostgreSQL statement (after a comma, ending without one): the
 * event and its deliveries are written if the CTE `source` has a row. Adds its values to `params`.
 *
 * A delivery's id is made here, one per matching endpoint: a fresh ULID's first 24 characters
 * and the endpoint's ordinal in its last two (a workspace has at most MAX_ENDPOINTS, 16, far
 * under the 1,024 two digits number), so still "whd_" + a ULID of this instant.
 */
export function outboxStatements(source: string, params: SqlParam[], event: NewEvent): string {
  const row = eventRow(event);
  const first = params.length + 1;
  params.push(...Object.values(row), event.workspaceId, event.type, event.at, newId("whd_").slice(0, -2), ULID_DIGITS);
  return builtOnce(`outbox ${source} ${first}`, () => outboxText(source, Object.keys(row), first));
}

function outboxText(source: string, columns: readonly string[], first: number): string {
  const eventValues = columns.map((_, i) => `$${first + i}`).join(", ");
  const [workspace, type, when, idBase, digits] = [0, 1, 2, 3, 4].map((i) => `$${first + columns.length + i}`);
  return `event_row AS (
      INSERT INTO events (${columns.join(", ")}) SELECT ${eventValues} FROM ${source} RETURNING seq
    ), deliveries AS (
      INSERT INTO webhook_deliveries (id, workspace_id, endpoint_id, event_seq, status, next_attempt_at, created_at)
      SELECT ${idBase} || substr(${digits}, (endpoint.n / 32)::int % 32 + 1, 1) || substr(${digits}, endpoint.n::int % 32 + 1, 1),
             ${workspace}, endpoint.id, event_row.seq, 'PENDING', ${when}, ${when}
      FROM event_row, (
        SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM webhook_endpoints
        WHERE workspace_id = ${workspace} AND status = 'ENABLED' AND (jsonb_array_length(event_types) = 0 OR event_types ? ${type})
      ) AS endpoint
    )`;
}
