import type { IntentPatch, AccountRecord, AccountStatus, AccountSummary, ApiKeyRecord, IntentRecord, IntentStatus, ProviderIdentity, SealedAccount, SealedBlob, Workspace } from "./store.ts";
import type { Row, SqlParam, Values } from "./sql.ts";

/**
 * Record <-> row mapping for both backends. Columns come back in each driver's own types
 * (pg: Date, Buffer, parsed jsonb; node:sqlite: Unix ms, Uint8Array, JSON text), so the
 * readers accept either; writers hand over Date / Buffer / JSON text and let the driver adapt.
 */


export function workspaceToRow(ws: Workspace): Record<string, SqlParam> {
  return { id: ws.id, name: ws.name, created_at: ws.createdAt };
}

export function workspaceFromRow(row: Row): Workspace {
  return { id: text(row.id), name: text(row.name), createdAt: date(row.created_at) };
}

export function apiKeyToRow(key: ApiKeyRecord): Record<string, SqlParam> {
  return {
    id: key.id,
    workspace_id: key.workspaceId,
    secret_hash: key.secretHash,
    label: key.label,
    scopes: scopesToText(key.scopes),
    created_at: key.createdAt,
    revoked_at: key.revokedAt,
  };
}

/** A list of scopes as one column (an API key's, an OAuth grant's): space-separated, as OAuth writes scope lists; no scope name holds a space. */
export function scopesToText(scopes: readonly string[]): string {
  return scopes.join(" ");
}

function scopesFromText(scopes: string): string[] {
  return scopes.split(" ").filter((scope) => scope !== "");
}

export function apiKeyFromRow(row: Row): ApiKeyRecord {
  return {
    id: text(row.id),
    workspaceId: text(row.workspace_id),
    secretHash: bytes(row.secret_hash),
    label: text(row.label),
    scopes: scopesFromText(text(row.scopes)),
    createdAt: date(row.created_at),
    revokedAt: dateOrNull(row.revoked_at),
  };
}

export function intentToRow(intent: IntentRecord): Record<string, SqlParam> {
  return {
    id: intent.id,
    workspace_id: intent.workspaceId,
    provider: intent.provider,
    identity_key: intent.identityKey,
    account_id: intent.accountId,
    status: intent.status,
    created_at: intent.createdAt,
    updated_at: intent.updatedAt,
    expires_at: intent.expiresAt,
    closed_at: intent.closedAt,
    error_kind: intent.errorKind,
    state: jsonOrNullToText(intent.state),
    ...secretsToRow(intent.secrets),
    revision: intent.revision,
  };
}

export function intentFromRow(row: Row): IntentRecord {
  return {
    id: text(row.id),
    workspaceId: text(row.workspace_id),
    provider: text(row.provider),
    identityKey: text(row.identity_key),
    accountId: text(row.account_id),
    status: text(row.status) as IntentStatus,
    createdAt: date(row.created_at),
    updatedAt: date(row.updated_at),
    expiresAt: date(row.expires_at),
    closedAt: dateOrNull(row.closed_at),
    errorKind: textOrNull(row.error_kind),
    state: row.state === null ? null : json(row.state),
    secrets: secretsFromRow(row),
    revision: Number(row.revision),
  };
}

/** Only the fields present in `patch` become columns to set. */
export function intentPatchToRow(patch: IntentPatch): Record<string, SqlParam> {
  const row: Record<string, SqlParam> = {};
  if (patch.status !== undefined) row.status = patch.status;
  if (patch.state !== undefined) row.state = jsonOrNullToText(patch.state);
  if (patch.secrets !== undefined) Object.assign(row, secretsToRow(patch.secrets));
  if (patch.expiresAt !== undefined) row.expires_at = patch.expiresAt;
  if (patch.errorKind !== undefined) row.error_kind = patch.errorKind;
  if (patch.updatedAt !== undefined) row.updated_at = patch.updatedAt;
  if (patch.closedAt !== undefined) row.closed_at = patch.closedAt;
  // A closed intent keeps no secret: its sealed request only served the flow.
  if (patch.closedAt) Object.assign(row, secretsToRow(null));
  return row;
}

export function accountToRow(account: AccountRecord): Record<string, SqlParam> {
  return {
    id: account.id,
    workspace_id: account.workspaceId,
    provider: account.provider,
    auth_method: account.authMethod,
    provider_user_id: account.identity.providerUserId,
    display_name: account.identity.displayName ?? null,
    handle: account.identity.handle ?? null,
    email: account.identity.email ?? null,
    status: account.status,
    options: JSON.stringify(account.options),
    ...secretsToRow(account.secrets),
    access_token_expires_at: account.accessTokenExpiresAt,
    granted_scopes: grantedScopesToRow(account.grantedScopes),
    created_at: account.createdAt,
    updated_at: account.updatedAt,
    status_reason: account.statusReason ?? null,
    status_changed_at: account.statusChangedAt ?? account.createdAt,
  };
}

export function accountFromRow(row: Row): AccountRecord {
  return { ...accountSummaryFromRow(row), secrets: secretsFromRow(row), ...grantedScopesFromRow(row) };
}

/** The columns sealedAccountFromValues reads, in its order. */
export const SEALED_ACCOUNT_COLUMNS = "id, workspace_id, provider, status, secrets_key_id, secrets_envelope, access_token_expires_at, granted_scopes";

/** A row of SEALED_ACCOUNT_COLUMNS' values (SqlDriver.queryValues): what GetCredentials reads. */
export function sealedAccountFromValues(values: Values): SealedAccount {
  const scopes = textOrNull(values[7]);
  return {
    id: text(values[0]),
    workspaceId: text(values[1]),
    provider: text(values[2]),
    status: text(values[3]) as AccountStatus,
    secrets: values[4] === null ? null : { keyId: text(values[4]), envelope: bytes(values[5]) },
    accessTokenExpiresAt: dateOrNull(values[6]),
    ...(scopes === null ? {} : { grantedScopes: scopesFromText(scopes) }),
  };
}

// Absent rather than undefined-valued, like the optional identity fields.
function grantedScopesFromRow(row: Row): { grantedScopes?: string[] } {
  const scopes = textOrNull(row.granted_scopes);
  return scopes === null ? {} : { grantedScopes: scopesFromText(scopes) };
}

/** As scopesToText; none known: NULL. */
export function grantedScopesToRow(scopes: readonly string[] | undefined): string | null {
  return scopes && scopes.length > 0 ? scopesToText(scopes) : null;
}

/** What an account summary is read from, in the order accountSummaryFromValues reads them: listings leave the sealed secrets in the table. */
const ACCOUNT_SUMMARY_COLUMN_LIST = [
  "id", "workspace_id", "provider", "auth_method", "provider_user_id", "display_name", "handle", "email",
  "status", "status_reason", "status_changed_at", "options", "access_token_expires_at", "created_at", "updated_at",
] as const;
export const ACCOUNT_SUMMARY_COLUMNS = ACCOUNT_SUMMARY_COLUMN_LIST.join(", ");

/** A row of ACCOUNT_SUMMARY_COLUMNS' values (SqlDriver.queryValues). */
export function accountSummaryFromValues(values: Values): AccountSummary {
  const updatedAt = date(values[14]);
  return {
    id: text(values[0]),
    workspaceId: text(values[1]),
    provider: text(values[2]),
    authMethod: text(values[3]),
    identity: identity(values[4], values[5], values[6], values[7]),
    status: text(values[8]) as AccountStatus,
    statusReason: textOrNull(values[9]),
    statusChangedAt: values[10] === null ? updatedAt : date(values[10]),
    options: json(values[11]),
    accessTokenExpiresAt: dateOrNull(values[12]),
    createdAt: date(values[13]),
    updatedAt,
  };
}

/** The same from a keyed row (one read with every column, SELECT *): one mapping for both. */
export function accountSummaryFromRow(row: Row): AccountSummary {
  return accountSummaryFromValues(ACCOUNT_SUMMARY_COLUMN_LIST.map((column) => row[column]));
}

export function secretsToRow(secrets: SealedBlob | null): Record<string, SqlParam> {
  return { secrets_key_id: secrets?.keyId ?? null, secrets_envelope: secrets?.envelope ?? null };
}

export function secretsFromRow(row: Row): SealedBlob | null {
  if (row.secrets_key_id === null) return null;
  return { keyId: text(row.secrets_key_id), envelope: bytes(row.secrets_envelope) };
}

// Optional identity fields stay absent rather than undefined-valued.
function identity(providerUserId: unknown, displayName: unknown, handle: unknown, email: unknown): ProviderIdentity {
  const identity: ProviderIdentity = { providerUserId: text(providerUserId) };
  if (displayName !== null) identity.displayName = text(displayName);
  if (handle !== null) identity.handle = text(handle);
  if (email !== null) identity.email = text(email);
  return identity;
}

export function text(value: unknown): string {
  return String(value);
}

export function textOrNull(value: unknown): string | null {
  return value === null ? null : String(value);
}

export function date(value: unknown): Date {
  return value instanceof Date ? value : new Date(Number(value));
}

export function dateOrNull(value: unknown): Date | null {
  return value === null ? null : date(value);
}

export function bytes(value: unknown): Buffer {
  if (!(value instanceof Uint8Array)) throw new TypeError("Expected a binary column.");
  return Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}

export function json(value: unknown): Record<string, unknown> {
  return (typeof value === "string" ? JSON.parse(value) : value) as Record<string, unknown>;
}

function jsonOrNullToText(value: Record<string, unknown> | null): string | null {
  return value === null ? null : JSON.stringify(value);
}
