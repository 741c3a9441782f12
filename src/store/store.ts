/**
 * The one storage interface. Two backends implement it (sqlite.ts: node:sqlite, the
 * embedded default; postgres.ts: pg), and one contract suite (test/store) runs against both.
 *
 * Uniqueness lives in the database: a partial unique index on open intents
 * (workspace_id, provider, identity_key) and on live accounts
 * (workspace_id, provider, provider_user_id) where status <> 'DELETED'.
 *
 * Any failure to reach the database (refused, timed out, pool exhausted) surfaces as
 * AppError("service_unavailable"); a transaction either commits whole or not at all.
 */

export interface Workspace {
  id: string; // "ws_" + ULID
  name: string;
  createdAt: Date;
}

export interface ApiKeyRecord {
  id: string; // "key_" + ULID, also the public part of the key string
  workspaceId: string;
  /** SHA-256 of the secret part of the key: the key itself is never stored. */
  secretHash: Buffer;
  label: string;
  /** What the key may do (auth/scopes.ts); names this version does not know grant nothing. */
  scopes: readonly string[];
  createdAt: Date;
  revokedAt: Date | null;
}

/**
 * CONNECTED: usable. CREDENTIALS_EXPIRED: the provider refuses the stored credentials.
 * ERROR: the provider kept failing or could not be reached. RECONNECTING: a reconnection is
 * under way. DELETED: unlinked, secrets erased.
 */
export type AccountStatus = "CONNECTED" | "DELETED" | "CREDENTIALS_EXPIRED" | "RECONNECTING" | "ERROR";

/** Who the account is at the provider, as the connector learned it. */
export interface ProviderIdentity {
  providerUserId: string;
  displayName?: string;
  handle?: string;
  email?: string;
}

/** A sealed secret blob (see crypto/): the key id is stored beside it so rotation can find stale rows. */
export interface SealedBlob {
  keyId: string;
  envelope: Buffer;
}

export interface AccountRecord {
  id: string; // "acc_" + ULID
  workspaceId: string;
  provider: string; // e.g. "MAIL", "LINKEDIN"
  authMethod: string; // the variant, e.g. "mail", "linkedin_basic"
  identity: ProviderIdentity;
  status: AccountStatus;
  /** Non-secret options as JSON-safe data (country, ip, sync limit, proxy without password, ...). */
  options: Record<string, unknown>;
  /** All the account's secrets in one sealed envelope; null once deleted (secrets erased). */
  secrets: SealedBlob | null;
  accessTokenExpiresAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
  /** The catalogue type ("errors/...") behind the status, when it is not CONNECTED; read back always, optional to writers. */
  statusReason?: string | null;
  /** When the status last changed (writers may leave it: createdAt). */
  statusChangedAt?: Date;
}

/** An account as a listing shows it: all but its sealed secrets, which no listing needs. */
export type AccountSummary = Omit<AccountRecord, "secrets">;

export type IntentStatus = "OPEN" | "CHECKPOINT" | "CONNECTED" | "FAILED" | "CANCELED" | "EXPIRED";

export interface IntentRecord {
  id: string; // "int_" + ULID
  workspaceId: string;
  provider: string;
  /** What identifies the person before the provider answers: username, imap_user, phone, token fingerprint. */
  identityKey: string;
  /** The id the account will get when the intent succeeds. */
  accountId: string;
  status: IntentStatus;
  createdAt: Date;
  updatedAt: Date;
  expiresAt: Date;
  /** Set when the intent ends (any status but OPEN / CHECKPOINT). */
  closedAt: Date | null;
  /** The catalogue kind that ended a FAILED intent. */
  errorKind: string | null;
  /** JSON state for multi-step flows (checkpoint, gateway reference); null for one-shot connects. */
  state: Record<string, unknown> | null;
  /** The request's secrets, sealed, while a multi-step intent waits; null otherwise. */
  secrets: SealedBlob | null;
  /** Grows with every write: the compare-and-set counter of updateOpenIntent. 0 when created. */
  revision: number;
}

/** The fields of an open intent updateOpenIntent may change. */
export type IntentPatch = Partial<Pick<IntentRecord, "status" | "state" | "secrets" | "expiresAt" | "errorKind" | "updatedAt" | "closedAt">>;

export type OpenIntentResult =
  | { opened: IntentRecord }
  /** Another intent for the same identity is open and not expired. */
  | { inProgress: IntentRecord }
  /** The workspace already has `limit` open intents (see openIntent's maxOpen). */
  | { tooMany: { limit: number } };

export type InsertAccountResult =
  | { inserted: AccountRecord }
  /** A live account with the same (workspace, provider, provider user id) exists. */
  | { duplicateOf: string }
  /** The intent was no longer open (expired, canceled by a restart): nothing was written. */
  | { intentGone: IntentRecord | null };

export interface ListAccountsQuery {
  workspaceId: string;
  provider?: string;
  /** Without a status filter, DELETED accounts are left out. */
  status?: AccountStatus;
  /** Exclusive: return accounts whose id sorts after this one. */
  afterId?: string;
  limit: number;
}

export interface Store extends EventStore, HealthCheckStore, WebhookStore {
  readonly kind: "sqlite" | "postgres";

  // Workspaces and API keys.
  createWorkspace(ws: Workspace): Promise<void>;
  findWorkspaceByName(name: string): Promise<Workspace | undefined>;
  listWorkspaces(): Promise<Workspace[]>;
  createApiKey(key: ApiKeyRecord): Promise<void>;
  getApiKey(id: string): Promise<ApiKeyRecord | undefined>;
  listApiKeys(workspaceId?: string): Promise<ApiKeyRecord[]>;
  /** Returns false if no such key or already revoked. */
  revokeApiKey(id: string, at: Date): Promise<boolean>;
  /** Replaces an active key's scopes. Returns false if no such key or revoked. */
  setApiKeyScopes(id: string, scopes: readonly string[]): Promise<boolean>;

  // Authentication intents.
  /**
   * In one transaction: expire any open intent for the same (workspace, provider,
   * identityKey) whose expiresAt <= now (status EXPIRED), then insert `intent`. If a live
   * one remains, return it as inProgress (unless `restart`, which closes it as CANCELED first).
   * With `maxOpen`, a workspace that already has that many open, unexpired intents gets tooMany.
   */
  openIntent(intent: IntentRecord, now: Date, restart?: boolean, maxOpen?: number): Promise<OpenIntentResult>;
  getIntent(workspaceId: string, id: string): Promise<IntentRecord | undefined>;
  /** Finds the intent whose pending account id this is (checkpoint flows address intents by account id). */
  getIntentByAccountId(workspaceId: string, accountId: string): Promise<IntentRecord | undefined>;
  /** The intents of `ids` that exist (any workspace: ids come from this service's own records). */
  getIntents(ids: readonly string[]): Promise<IntentRecord[]>;
  /**
   * Compare-and-set on an open intent: applies `patch` only if the intent is still open (and,
   * with `expectedRevision`, still at that revision). Returns the new record or undefined.
   * A patch that closes the intent (closedAt set) erases its sealed secrets too.
   */
  updateOpenIntent(id: string, patch: IntentPatch, expectedRevision?: number): Promise<IntentRecord | undefined>;
  /**
   * Closes up to `limit` open intents that expired at or before `expiredBefore` as EXPIRED
   * (intent_expired), erasing their sealed request, and returns them as they were. Replicas
   * sweeping together never take the same row (FOR UPDATE SKIP LOCKED on PostgreSQL).
   */
  sweepExpiredIntents(expiredBefore: Date, at: Date, limit: number): Promise<IntentRecord[]>;
  /** Intent changes written by any replica (LISTEN/NOTIFY) or, on the embedded store, by this process. */
  readonly changes: IntentChanges;

  // Accounts.
  /**
   * In one transaction: check the intent is still open, insert the account (the partial
   * unique index decides duplicates), close the intent as CONNECTED, put account.connected in the outbox.
   */
  insertAccount(account: AccountRecord, intentId: string, now: Date): Promise<InsertAccountResult>;
  getAccount(workspaceId: string, id: string): Promise<AccountRecord | undefined>;
  listAccounts(query: ListAccountsQuery): Promise<AccountSummary[]>;
  /** Soft delete: status DELETED, secrets erased, account.deleted in the outbox. Returns false if no live account has that id in that workspace. */
  deleteAccount(workspaceId: string, id: string, at: Date): Promise<boolean>;
  updateAccountSecrets(workspaceId: string, id: string, secrets: SealedBlob, accessTokenExpiresAt: Date | null, at: Date): Promise<void>;

  // Key rotation: a page of sealed blobs (accounts, waiting intents, webhook signing secrets) not under `activeKeyId`.
  listStaleSecrets(activeKeyId: string, limit: number): Promise<StaleSecret[]>;
  /** Replaces the blob only if it is still under `expectedKeyId` (safe against a concurrent writer). */
  replaceSecret(ref: StaleSecret, next: SealedBlob): Promise<boolean>;

  // Operations.
  /** The cheapest round trip to the database (SELECT 1): throws service_unavailable when it cannot be reached. */
  ping(): Promise<void>;
  /** Intents open (neither ended nor expired) at `now`, in every workspace: the open-intents gauge. */
  countOpenIntents(now: Date): Promise<number>;

  close(): Promise<void>;
}

/** Each call gets an intent id that was written; `resync` after a gap in which changes may have been missed. */
export interface IntentChanges {
  subscribe(listener: IntentChangeListener): () => void;
}

export interface IntentChangeListener {
  changed(intentId: string): void;
  /** The feed was interrupted (a lost database connection): anything may have changed. */
  resync(): void;
}

export interface StaleSecret {
  table: "accounts" | "intents" | "webhook_endpoints";
  id: string;
  workspaceId: string;
  secrets: SealedBlob;
}

// ---- Issue 17: events (the outbox), health checks, webhooks -----------------------------------

export type EventType = "account.connected" | "account.reconnected" | "account.status_changed" | "account.deleted";

/** What account.status_changed carries; `reason` is the catalogue type ("errors/...") behind `to`, if any. */
export interface StatusChange {
  from: AccountStatus;
  to: AccountStatus;
  reason: string | null;
}

export interface EventRecord {
  /** The workspace stream's cursor: grows with every event, in commit order within a workspace. */
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
