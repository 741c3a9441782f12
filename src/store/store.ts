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

import type { EventStore, HealthCheckStore, WebhookStore } from "./outbox-store.ts";
import type { CredentialRefreshStore } from "./refresh-store.ts";
import type {
  AccountRecord,
  AccountSummary,
  ApiKeyRecord,
  InsertAccountResult,
  IntentPatch,
  IntentRecord,
  ListAccountsQuery,
  OpenIntentResult,
  OpenReconnectIntentResult,
  ReconnectAccountResult,
  SealedAccount,
  SealedBlob,
  Workspace,
} from "./records.ts";

export type * from "./outbox-store.ts";
export type * from "./records.ts";
export type * from "./refresh-store.ts";

export interface Store extends EventStore, HealthCheckStore, WebhookStore, CredentialRefreshStore {
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
   * A reconnection's intent it ends puts its account's status back (as updateOpenIntent does) unless
   * the new one holds the account; on PostgreSQL ConnectAccount's own intents open in one statement.
   */
  openIntent(intent: IntentRecord, now: Date, restart?: boolean, maxOpen?: number): Promise<OpenIntentResult>;
  /**
   * openIntent for a reconnection of the live account intent.accountId, in one transaction
   * with marking the account RECONNECTING (its status before remembered; a status change
   * event). An unknown or deleted account: accountGone. When the intent (the account's last
   * open one) later closes otherwise than by reconnectAccount, the account's status goes back
   * in that transaction (updateOpenIntent, sweepExpiredIntents).
   */
  openReconnectIntent(intent: IntentRecord, now: Date, restart?: boolean, maxOpen?: number): Promise<OpenReconnectIntentResult>;
  getIntent(workspaceId: string, id: string): Promise<IntentRecord | undefined>;
  /** Finds the intent whose pending account id this is (checkpoint flows address intents by account id). */
  getIntentByAccountId(workspaceId: string, accountId: string): Promise<IntentRecord | undefined>;
  /** The intents of `ids` that exist (any workspace: ids come from this service's own records). */
  getIntents(ids: readonly string[]): Promise<IntentRecord[]>;
  /**
   * Compare-and-set on an open intent: applies `patch` only if the intent is still open (and,
   * with `expectedRevision`, still at that revision). Returns the new record or undefined.
   * A patch that closes the intent (closedAt set) erases its sealed secrets too; one that closes
   * a reconnection's intent (its `state` says so: the engine's patches always carry the state)
   * puts the account's status back in the same transaction (openReconnectIntent).
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
  /**
   * In one transaction, as insertAccount: close the intent CONNECTED, then replace the live
   * account's credentials, identity details, options and token expiry (id and create time
   * kept), status CONNECTED, account.reconnected in the outbox. Refused, with nothing written,
   * when `account`'s provider identity is not the stored one or the account was deleted.
   */
  reconnectAccount(account: AccountRecord, intentId: string, now: Date): Promise<ReconnectAccountResult>;
  getAccount(workspaceId: string, id: string): Promise<AccountRecord | undefined>;
  /** The account without its sealed secrets (GetAccount's read): the secrets stay in the table. */
  getAccountSummary(workspaceId: string, id: string): Promise<AccountSummary | undefined>;
  /** The account's sealed credentials and what deciding on them needs (GetCredentials' read): its identity and options stay in the table. */
  getSealedAccount(workspaceId: string, id: string): Promise<SealedAccount | undefined>;
  listAccounts(query: ListAccountsQuery): Promise<AccountSummary[]>;
  /** Soft delete: status DELETED, secrets erased, account.deleted in the outbox. Returns false if no live account has that id in that workspace. */
  deleteAccount(workspaceId: string, id: string, at: Date): Promise<boolean>;

  // Key rotation: a page of sealed blobs (accounts, waiting intents, webhook signing secrets) not under `activeKeyId`.
  listStaleSecrets(activeKeyId: string, limit: number): Promise<StaleSecret[]>;
  /** Replaces the blob only if it is still exactly `ref.secrets` (safe against a concurrent writer). */
  replaceSecret(ref: StaleSecret, next: SealedBlob): Promise<boolean>;
  /**
   * Credentials migration (`secrets migrate`): a page of the sealed credentials of one table,
   * in id order after `afterId` ("" for the first page); rows without secrets are left out.
   */
  listSealedCredentials(table: SealedCredentialsTable, afterId: string, limit: number): Promise<StaleSecret[]>;

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

/** The tables whose sealed blobs are credentials (webhook signing secrets are not). */
export type SealedCredentialsTable = "accounts" | "intents";

/** A row's sealed blob, with what it takes to open it (the AAD) and to replace it (compare-and-set). */
export interface StaleSecret {
  table: "accounts" | "intents" | "webhook_endpoints";
  id: string;
  workspaceId: string;
  secrets: SealedBlob;
}
