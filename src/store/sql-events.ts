import { numberEvents } from "./event-numbering.ts";
import { eventFromRow } from "./event-rows.ts";
import { appendEvent } from "./outbox.ts";
import { accountFromRow } from "./rows.ts";
import type { SqlDriver } from "./sql.ts";
import { placeholders } from "./sql-helpers.ts";
import type { EventStore, HealthCheckStore } from "./store.ts";

/** PostgreSQL's cursor is pos, given after commit (event-numbering.ts); SQLite's one writer commits its events in seq order. */
const LIST_EVENTS: Record<SqlDriver["kind"], string> = {
  sqlite: "SELECT * FROM events WHERE workspace_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
  postgres: "SELECT pos AS seq, id, workspace_id, account_id, type, data, created_at FROM events WHERE workspace_id = $1 AND pos > $2 ORDER BY pos LIMIT $3",
};

/**
 * The event stream's reads, and the health checks' claims and results. Claims lock the rows
 * they take with SKIP LOCKED on PostgreSQL, so replicas checking together never take the same
 * account; SQLite (one process, one writer) needs no such clause.
 */
export function createEventStore(db: SqlDriver): EventStore & HealthCheckStore {
  const skipLocked = db.kind === "postgres" ? "FOR UPDATE SKIP LOCKED" : "";
  return {
    async listEvents(workspaceId, afterSeq, limit) {
      if (db.kind === "postgres") await numberEvents(db, workspaceId, limit);
      const rows = await db.query(LIST_EVENTS[db.kind], [workspaceId, afterSeq, limit]);
      return rows.map(eventFromRow);
    },

    claimDueChecks(now, limit, leaseUntil) {
      return db.transaction(async (tx) => {
        const rows = await tx.query(
          `SELECT * FROM accounts WHERE status IN ('CONNECTED', 'ERROR') AND (next_check_at IS NULL OR next_check_at <= $1)
           ORDER BY next_check_at LIMIT $2 ${skipLocked}`,
          [now, limit],
        );
        if (rows.length === 0) return [];
        const ids = rows.map((row) => String(row.id));
        await tx.query(`UPDATE accounts SET next_check_at = $1 WHERE id IN (${placeholders(ids.length, 2)})`, [leaseUntil, ...ids]);
        return rows.map((row) => ({ account: accountFromRow(row), failures: Number(row.check_failures), scheduled: row.next_check_at !== null }));
      });
    },

    recordCheck(workspaceId, accountId, expected, result, at) {
      return db.transaction(async (tx) => {
        const changed = result.status !== expected;
        const rows = await tx.query(
          `UPDATE accounts SET status = $3, status_reason = $4, check_failures = $5, next_check_at = $6
             ${changed ? ", status_changed_at = $8, updated_at = $8" : ""}
           WHERE workspace_id = $1 AND id = $2 AND status = $7 RETURNING id`,
          [workspaceId, accountId, result.status, result.reason, result.failures, result.nextCheckAt, expected, ...(changed ? [at] : [])],
        );
        if (rows.length === 0) return false;
        // Only a change of status is news: the same status again (with whatever reason) is not re-announced.
        if (changed) {
          await appendEvent(tx, { workspaceId, accountId, type: "account.status_changed", change: { from: expected, to: result.status, reason: result.reason }, at });
        }
        return true;
      });
    },
  };
}
