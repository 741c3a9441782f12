/** The rows the store reads and writes, as the domain sees them. */
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
  /** OAuth: the scopes the token endpoint last granted the stored access token; absent when it never said (a token stored as given). */
  grantedScopes?: string[];
  createdAt: Date;
  updatedAt: Date;
  /** The catalogue type ("errors/...") behind the status, when it is not CONNECTED; read back always, optional to writers. */
  statusReason?: string | null;
  /** When the status last changed (writers may leave it: createdAt). */
  statusChangedAt?: Date;
}

/** An account as a listing shows it: all but its sealed secrets, which no listing needs. */
export type AccountSummary = Omit<AccountRecord, "secrets">;

/** What reading an account's credentials needs of it (GetCredentials' read): no identity, options or times. */
export type SealedAccount = Pick<AccountRecord, "id" | "workspaceId" | "provider" | "status" | "secrets" | "accessTokenExpiresAt" | "grantedScopes">;

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

/** Opening a reconnection's intent: as openIntent, or the account is not there to reconnect (unknown, deleted). */
export type OpenReconnectIntentResult = OpenIntentResult | { accountGone: true };

export type ReconnectAccountResult =
  | { reconnected: AccountRecord }
  /** The login belongs to another provider identity than the account's: nothing was written. */
  | { otherIdentity: true }
  /** The account was deleted meanwhile: nothing was written. */
  | { accountGone: true }
  /** The intent was no longer open (expired, canceled by a restart): nothing was written. */
  | { intentGone: IntentRecord | null };
