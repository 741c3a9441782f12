import { DELIVERY_COLUMNS, DELIVERY_FROM, deliveryFromRow, endpointFromRow, eventFromRow } from "./event-rows.ts";
import { secretsToRow } from "./rows.ts";
import type { SqlDriver } from "./sql.ts";
import { insert, placeholders } from "./sql-helpers.ts";
import type { WebhookStore } from "./store.ts";

/**
 * Webhook endpoints and their deliveries. A delivery is claimed by pushing its next attempt
 * to the end of a lease: one replica at a time sends it, and if that replica dies the lease
 * runs out and another sends it again (receivers deduplicate on the event id).
 */
export function createWebhookStore(db: SqlDriver): WebhookStore {
  const skipLocked = db.kind === "postgres" ? "FOR UPDATE OF d SKIP LOCKED" : "";
  return {
    async createWebhookEndpoint(endpoint) {
      await db.query(
        ...insert("webhook_endpoints", {
          id: endpoint.id,
          workspace_id: endpoint.workspaceId,
          url: endpoint.url,
          event_types: JSON.stringify(endpoint.eventTypes),
          status: endpoint.status,
          disabled_reason: endpoint.disabledReason,
          ...secretsToRow(endpoint.secret),
          created_at: endpoint.createdAt,
          updated_at: endpoint.updatedAt,
        }),
      );
    },

    async listWebhookEndpoints(workspaceId) {
      return (await db.query("SELECT * FROM webhook_endpoints WHERE workspace_id = $1 ORDER BY id", [workspaceId])).map(endpointFromRow);
    },

    deleteWebhookEndpoint(workspaceId, id) {
      return db.transaction(async (tx) => {
        // Explicit rather than ON DELETE CASCADE alone: SQLite enforces foreign keys only per connection setting.
        await tx.query("DELETE FROM webhook_deliveries WHERE workspace_id = $1 AND endpoint_id = $2", [workspaceId, id]);
        const rows = await tx.query("DELETE FROM webhook_endpoints WHERE workspace_id = $1 AND id = $2 RETURNING id", [workspaceId, id]);
        return rows.length > 0;
      });
    },

    async rotateWebhookSecret(workspaceId, id, secret, at) {
      const rows = await db.query(
        "UPDATE webhook_endpoints SET secrets_key_id = $3, secrets_envelope = $4, updated_at = $5 WHERE workspace_id = $1 AND id = $2 RETURNING *",
        [workspaceId, id, secret.keyId, secret.envelope, at],
      );
      return rows[0] === undefined ? undefined : endpointFromRow(rows[0]);
    },

    claimDeliveries(now, limit, leaseUntil) {
      return db.transaction(async (tx) => {
        const due = await tx.query(
          `SELECT d.id FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
           WHERE d.status = 'PENDING' AND d.next_attempt_at <= $1 AND e.status = 'ENABLED'
           ORDER BY d.next_attempt_at LIMIT $2 ${skipLocked}`,
          [now, limit],
        );
        if (due.length === 0) return [];
        const ids = due.map((row) => String(row.id));
        await tx.query(`UPDATE webhook_deliveries SET next_attempt_at = $1 WHERE id IN (${placeholders(ids.length, 2)})`, [leaseUntil, ...ids]);
        const deliveries = await tx.query(`SELECT ${DELIVERY_COLUMNS} FROM ${DELIVERY_FROM} WHERE d.id IN (${placeholders(ids.length, 1)}) ORDER BY d.event_seq`, ids);
        const endpointIds = [...new Set(deliveries.map((row) => String(row.endpoint_id)))];
        const seqs = [...new Set(deliveries.map((row) => Number(row.event_seq)))];
        const endpoints = new Map(
          (await tx.query(`SELECT * FROM webhook_endpoints WHERE id IN (${placeholders(endpointIds.length, 1)})`, endpointIds)).map((row) => [String(row.id), endpointFromRow(row)]),
        );
        const events = new Map((await tx.query(`SELECT * FROM events WHERE seq IN (${placeholders(seqs.length, 1)})`, seqs)).map((row) => [Number(row.seq), eventFromRow(row)]));
        return deliveries.map((row) => ({ delivery: deliveryFromRow(row), endpoint: endpoints.get(String(row.endpoint_id))!, event: events.get(Number(row.event_seq))! }));
      });
    },

    recordAttempt(deliveryId, result) {
      return db.transaction(async (tx) => {
        const { outcome } = result;
        const [status, nextAttemptAt, deliveredAt] =
          "delivered" in outcome ? ["DELIVERED", result.at, result.at] : "retryAt" in outcome ? ["PENDING", outcome.retryAt, null] : ["FAILED", result.at, null];
        const rows = await tx.query(
          `UPDATE webhook_deliveries SET attempts = attempts + 1, last_attempt_at = $2, last_status_code = $3, last_error = $4,
             status = $5, next_attempt_at = $6, delivered_at = $7
           WHERE id = $1 AND status = 'PENDING' RETURNING endpoint_id`,
          [deliveryId, result.at, result.statusCode, result.error, status, nextAttemptAt, deliveredAt],
        );
        if ("gaveUp" in outcome && rows[0] !== undefined) {
          await tx.query("UPDATE webhook_endpoints SET status = 'DISABLED', disabled_reason = $2, updated_at = $3 WHERE id = $1", [String(rows[0].endpoint_id), outcome.gaveUp, result.at]);
        }
      });
    },

    async listDeliveries(workspaceId, endpointId, limit) {
      const rows = await db.query(`SELECT ${DELIVERY_COLUMNS} FROM ${DELIVERY_FROM} WHERE d.workspace_id = $1 AND d.endpoint_id = $2 ORDER BY d.id DESC LIMIT $3`, [workspaceId, endpointId, limit]);
      return rows.map(deliveryFromRow);
    },
  };
}
