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
  createdAt: Date;
  revokedAt: Date | null;
}

export type AccountStatus = "CONNECTED" | "DELETED" | "CREDENTIALS_EXPIRED" | "RECONNECTING";

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

export interface Store {
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
   * unique index decides duplicates), close the intent as CONNECTED.
   */
  insertAccount(account: AccountRecord, intentId: string, now: Date): Promise<InsertAccountResult>;
  getAccount(workspaceId: string, id: string): Promise<AccountRecord | undefined>;
  listAccounts(query: ListAccountsQuery): Promise<AccountSummary[]>;
  /** Soft delete: status DELETED, secrets erased. Returns false if no live account has that id in that workspace. */
  deleteAccount(workspaceId: string, id: string, at: Date): Promise<boolean>;
  updateAccountSecrets(workspaceId: string, id: string, secrets: SealedBlob, accessTokenExpiresAt: Date | null, at: Date): Promise<void>;

  // Key rotation: a page of sealed blobs (accounts and waiting intents) not under `activeKeyId`.
  listStaleSecrets(activeKeyId: string, limit: number): Promise<StaleSecret[]>;
  /** Replaces the blob only if it is still under `expectedKeyId` (safe against a concurrent writer). */
  replaceSecret(ref: StaleSecret, next: SealedBlob): Promise<boolean>;

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
  table: "accounts" | "intents";
  id: string;
  workspaceId: string;
  secrets: SealedBlob;
}
