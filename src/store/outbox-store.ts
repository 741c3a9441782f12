import type { AccountRecord, AccountStatus, SealedBlob } from "./records.ts";

// Issue 17: events (the outbox), health checks, webhooks.

export type EventType = "account.connected" | "account.reconnected" | "account.status_changed" | "account.deleted";

/** What account.status_changed carries; `reason` is the catalogue type ("errors/...") behind `to`, if any. */
export interface StatusChange {
  from: AccountStatus;
  to: AccountStatus;
  reason: string | null;
}

export interface EventRecord {
  /** The workspace stream's cursor: grows with every event, in commit order within a workspace (on PostgreSQL given after commit: event-numbering.ts). */
  seq: number;
  id: string; // "evt_" + ULID: receivers deduplicate on it
  workspaceId: string;
  accountId: string;
  type: EventType;
  /** account.status_changed only. */
  change: StatusChange | null;
  createdAt: Date;
}

export interface EventStore {
  /** The workspace's events after `afterSeq`, oldest first. */
  listEvents(workspaceId: string, afterSeq: number, limit: number): Promise<EventRecord[]>;
}

/** An account handed to one health checker, which holds it until `leaseUntil`. */
export interface ClaimedCheck {
  account: AccountRecord;
  /** Transient failures in a row so far. */
  failures: number;
  /** False the first time the account is seen: it only needs a place in the schedule. */
  scheduled: boolean;
}

/** The outcome of one check; the status change, if any, is announced in the same transaction. */
export interface CheckResult {
  status: AccountStatus;
  reason: string | null;
  failures: number;
  nextCheckAt: Date;
}

export interface HealthCheckStore {
  /** Up to `limit` CONNECTED or ERROR accounts due at `now`, each pushed to `leaseUntil` so no one else takes it (SKIP LOCKED on PostgreSQL). */
  claimDueChecks(now: Date, limit: number, leaseUntil: Date): Promise<ClaimedCheck[]>;
  /** Applies `result` if the account still has status `expected`; false if it changed meanwhile (deleted, reconnected). */
  recordCheck(workspaceId: string, accountId: string, expected: AccountStatus, result: CheckResult, at: Date): Promise<boolean>;
}

export type EndpointStatus = "ENABLED" | "DISABLED";

export interface WebhookEndpointRecord {
  id: string; // "whe_" + ULID
  workspaceId: string;
  url: string;
  /** Empty: every event type. */
  eventTypes: EventType[];
  status: EndpointStatus;
  /** Why it was disabled (e.g. "deliveries kept failing for 24h"). */
  disabledReason: string | null;
  /** The signing secret, sealed. */
  secret: SealedBlob;
  createdAt: Date;
  updatedAt: Date;
}

export type DeliveryStatus = "PENDING" | "DELIVERED" | "FAILED";

export interface DeliveryRecord {
  id: string; // "whd_" + ULID
  endpointId: string;
  eventId: string;
  eventType: EventType;
  status: DeliveryStatus;
  attempts: number;
  nextAttemptAt: Date;
  lastAttemptAt: Date | null;
  lastStatusCode: number | null;
  lastError: string | null;
  createdAt: Date;
  deliveredAt: Date | null;
}

/** A due delivery as a deliverer gets it: with its endpoint and its event. */
export interface ClaimedDelivery {
  delivery: DeliveryRecord;
  endpoint: WebhookEndpointRecord;
  event: EventRecord;
}

/** One attempt's outcome: delivered, to be retried at `retryAt`, or given up (and the endpoint disabled). */
export interface AttemptResult {
  at: Date;
  statusCode: number | null;
  error: string | null;
  outcome: { delivered: true } | { retryAt: Date } | { gaveUp: string };
}

export interface WebhookStore {
  createWebhookEndpoint(endpoint: WebhookEndpointRecord): Promise<void>;
  listWebhookEndpoints(workspaceId: string): Promise<WebhookEndpointRecord[]>;
  /** Deletes the endpoint and its deliveries; false if none had that id in that workspace. */
  deleteWebhookEndpoint(workspaceId: string, id: string): Promise<boolean>;
  /** The endpoint with its new secret, or undefined if none. */
  rotateWebhookSecret(workspaceId: string, id: string, secret: SealedBlob, at: Date): Promise<WebhookEndpointRecord | undefined>;
  /** Due deliveries of enabled endpoints, each pushed to `leaseUntil` (SKIP LOCKED on PostgreSQL). */
  claimDeliveries(now: Date, limit: number, leaseUntil: Date): Promise<ClaimedDelivery[]>;
  recordAttempt(deliveryId: string, result: AttemptResult): Promise<void>;
  /** Newest first. */
  listDeliveries(workspaceId: string, endpointId: string, limit: number): Promise<DeliveryRecord[]>;
}
