import { AppError } from "../errors/app-error.ts";
import { appendEvent } from "./outbox.ts";
import type { CredentialRefreshStore, RefreshWrite } from "./refresh-store.ts";
import { accountFromRow, grantedScopesToRow, secretsToRow } from "./rows.ts";
import type { SqlDriver, SqlExecutor } from "./sql.ts";
import { assignments, first } from "./sql-helpers.ts";

/** PostgreSQL's lock_not_available: the row lock was not granted within lock_timeout. */
const LOCK_NOT_AVAILABLE = "55P03";

/**
 * The locked read-refresh-write of an account's OAuth token. On PostgreSQL one transaction
 * holds the row (FOR UPDATE) while the provider is called, so a second replica waits, then
 * reads the token the first one stored. SQLite has a single connection shared by every call:
 * holding a transaction across a provider call would stall the whole store, so there the
 * read and the write are separate and the caller's in-process lock keeps refreshes apart.
 */
export function createCredentialStore(db: SqlDriver): CredentialRefreshStore {
  const live = "SELECT * FROM accounts WHERE workspace_id = $1 AND id = $2 AND status <> 'DELETED'";
  return {
    async refreshAccountLocked(workspaceId, accountId, lockTimeoutMs, refresh) {
      if (db.kind === "sqlite") {
        const { answer, write } = await refresh(first(await db.query(live, [workspaceId, accountId]), accountFromRow));
        if (write) await db.transaction((tx) => applyWrite(tx, workspaceId, accountId, write));
        return answer;
      }
      try {
        return await db.transaction(async (tx) => {
          // Bounded: a refresher stuck on a slow provider makes the others give up, not pile up.
          await tx.query("SELECT set_config('lock_timeout', $1, true)", [`${Math.max(1, Math.ceil(lockTimeoutMs))}ms`]);
          const { answer, write } = await refresh(first(await tx.query(`${live} FOR UPDATE`, [workspaceId, accountId]), accountFromRow));
          if (write) await applyWrite(tx, workspaceId, accountId, write);
          return answer;
        });
      } catch (e) {
        if (e instanceof Error && "code" in e && e.code === LOCK_NOT_AVAILABLE) {
          throw new AppError("service_unavailable", { detail: "Another replica is refreshing this account's token: retry shortly.", cause: e });
        }
        throw e;
      }
    },
  };
}

async function applyWrite(tx: SqlExecutor, workspaceId: string, accountId: string, write: RefreshWrite): Promise<void> {
  // Compare-and-set on the sealed blob: credentials replaced since the refresh read them (a
  // reconnection) are newer than anything the refresh learned, its token or its refusal.
  const { keyId, envelope } = write.expected;
  const unchanged = await tx.query(
    "SELECT id FROM accounts WHERE workspace_id = $1 AND id = $2 AND status <> 'DELETED' AND secrets_key_id = $3 AND secrets_envelope = $4",
    [workspaceId, accountId, keyId, envelope],
  );
  if (unchanged.length === 0) {
    throw new AppError("operation_canceled", { detail: "The account's credentials were replaced (reconnected or deleted) while its token was refreshed: the refresh was not stored.", metadata: { accountId } });
  }
  if (write.secrets) {
    const scopes = grantedScopesToRow(write.secrets.grantedScopes);
    const columns = { ...secretsToRow(write.secrets.sealed), access_token_expires_at: write.secrets.accessTokenExpiresAt, ...(scopes === null ? {} : { granted_scopes: scopes }), updated_at: write.at };
    await tx.query(`UPDATE accounts SET ${assignments(columns, 3)} WHERE workspace_id = $1 AND id = $2`, [workspaceId, accountId, ...Object.values(columns)]);
  }
  if (write.status) {
    const { from, to, reason } = write.status;
    // The health checks' transition (sql-events.ts recordCheck): only from the status the refresher saw.
    const rows = await tx.query(
      "UPDATE accounts SET status = $3, status_reason = $4, check_failures = 0, status_changed_at = $5, updated_at = $5 WHERE workspace_id = $1 AND id = $2 AND status = $6 RETURNING id",
      [workspaceId, accountId, to, reason, write.at, from],
    );
    if (rows.length > 0 && from !== to) await appendEvent(tx, { workspaceId, accountId, type: "account.status_changed", change: write.status, at: write.at });
  }
}
