import { bytes, date, dateOrNull, json, text, textOrNull } from "./rows.ts";
import type { Row } from "./sql.ts";
import type { DeliveryRecord, DeliveryStatus, EndpointStatus, EventRecord, EventType, StatusChange, WebhookEndpointRecord } from "./store.ts";

/** Row ↔ record mapping of the outbox and webhook tables (see rows.ts for the value types of each backend). */

export function eventFromRow(row: Row): EventRecord {
  const data = json(row.data) as { change?: StatusChange };
  return {
    seq: Number(row.seq), // pg answers BIGINT as text
    id: text(row.id),
    workspaceId: text(row.workspace_id),
    accountId: text(row.account_id),
    type: text(row.type) as EventType,
    change: data.change ?? null,
    createdAt: date(row.created_at),
  };
}

export function endpointFromRow(row: Row): WebhookEndpointRecord {
  const eventTypes = eventTypesFromColumn(row.event_types);
  return {
    id: text(row.id),
    workspaceId: text(row.workspace_id),
    url: text(row.url),
    eventTypes,
    status: text(row.status) as EndpointStatus,
    disabledReason: textOrNull(row.disabled_reason),
    secret: { keyId: text(row.secrets_key_id), envelope: bytes(row.secrets_envelope) },
    createdAt: date(row.created_at),
    updatedAt: date(row.updated_at),
  };
}

/** jsonb (pg: already parsed) or JSON text (SQLite). */
export function eventTypesFromColumn(value: unknown): EventType[] {
  return (typeof value === "string" ? JSON.parse(value) : value) as EventType[];
}

/** Reads a delivery joined with its event's id and type (DELIVERY_COLUMNS). */
export function deliveryFromRow(row: Row): DeliveryRecord {
  return {
    id: text(row.id),
    endpointId: text(row.endpoint_id),
    eventId: text(row.event_id),
    eventType: text(row.event_type) as EventType,
    status: text(row.status) as DeliveryStatus,
    attempts: Number(row.attempts),
    nextAttemptAt: date(row.next_attempt_at),
    lastAttemptAt: dateOrNull(row.last_attempt_at),
    lastStatusCode: row.last_status_code === null ? null : Number(row.last_status_code),
    lastError: textOrNull(row.last_error),
    createdAt: date(row.created_at),
    deliveredAt: dateOrNull(row.delivered_at),
  };
}

export const DELIVERY_COLUMNS = "d.*, v.id AS event_id, v.type AS event_type";
export const DELIVERY_FROM = "webhook_deliveries d JOIN events v ON v.seq = d.event_seq";
