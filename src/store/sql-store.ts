import { AppError } from "../errors/app-error.ts";
import {
  ACCOUNT_SUMMARY_COLUMNS,
  accountFromRow,
  accountSummaryFromValues,
  apiKeyFromRow,
  apiKeyToRow,
  scopesToText,
  intentFromRow,
  intentPatchToRow,
  SEALED_ACCOUNT_COLUMNS,
  sealedAccountFromValues,
  text,
  workspaceFromRow,
  workspaceToRow,
} from "./rows.ts";
import { appendEvent } from "./outbox.ts";
import { createConnectWrites } from "./connect-writes.ts";
import type { Row, SqlDriver, SqlParam } from "./sql.ts";
import { createCredentialStore } from "./sql-credentials.ts";
import { createEventStore } from "./sql-events.ts";
import { assignments, first, insert, placeholders } from "./sql-helpers.ts";
import { closing, PendingBound } from "./sql-intents.ts";
import { isReconnectState, revertReconnects, wasReconnection } from "./reconnect-status.ts";
import { createReconnectStore } from "./sql-reconnect.ts";
import { createSecretStore } from "./sql-secrets.ts";
import { createWebhookStore } from "./sql-webhooks.ts";
import type { IntentChanges, Store } from "./store.ts";

export interface SqlStoreChanges {
  /** What subscribers of store.changes hear. */
  feed: IntentChanges;
  /** Called with the ids of intents this process wrote, after the write committed; unset where the database announces writes itself (PostgreSQL's trigger). */
  announce?: (intentIds: readonly string[]) => void;
}

/**
 * GetAccount's and GetCredentials' statements, built once: a template evaluated per call is a
 * new string each time, which the driver's statement cache then hashes again on every lookup.
 */
const GET_ACCOUNT_SUMMARY = `SELECT ${ACCOUNT_SUMMARY_COLUMNS} FROM accounts WHERE workspace_id = $1 AND id = $2`;
const GET_SEALED_ACCOUNT = `SELECT ${SEALED_ACCOUNT_COLUMNS} FROM accounts WHERE workspace_id = $1 AND id = $2`;

/** Rows one IN (...) list reads at most. */
const IN_LIST_CHUNK = 500;

/**
 * The Store for both backends. Every statement here is valid PostgreSQL and SQLite alike;
 * uniqueness races are settled by INSERT ... ON CONFLICT DO NOTHING against the partial
 * unique indexes, which neither throws nor (in PostgreSQL) aborts the transaction.
 */
export function createSqlStore(db: SqlDriver, changes: SqlStoreChanges): Store {
  const announce = changes.announce ?? (() => {});
  // Only the server's store opens intents in an embedded file; PostgreSQL's replicas share theirs.
  const bound = db.kind === "sqlite" ? new PendingBound() : undefined;
  const announceRows = (rows: Row[]) => {
    if (rows.length > 0) announce(rows.map((row) => text(row.id)));
    return rows;
  };
  return {
    kind: db.kind,
    changes: changes.feed,
    ...createEventStore(db),
    ...createWebhookStore(db),
    ...createConnectWrites(db, announce, bound),
    ...createReconnectStore(db, announce, bound),
    ...createCredentialStore(db),
    ...createSecretStore(db),

    async createWorkspace(ws) {
      const rows = await db.query(...insert("workspaces", workspaceToRow(ws), "ON CONFLICT DO NOTHING RETURNING id"));
      if (rows.length === 0) throw new AppError("already_exists", { detail: "A workspace with that id or name exists.", metadata: { name: ws.name } });
    },

    async findWorkspaceByName(name) {
      return first(await db.query("SELECT * FROM workspaces WHERE name = $1", [name]), workspaceFromRow);
    },

    async listWorkspaces() {
      return (await db.query("SELECT * FROM workspaces ORDER BY id")).map(workspaceFromRow);
    },

    async createApiKey(key) {
      await db.query(...insert("api_keys", apiKeyToRow(key)));
    },

    async getApiKey(id) {
      return first(await db.query("SELECT * FROM api_keys WHERE id = $1", [id]), apiKeyFromRow);
    },

    async listApiKeys(workspaceId) {
      const rows = workspaceId === undefined
        ? await db.query("SELECT * FROM api_keys ORDER BY id")
        : await db.query("SELECT * FROM api_keys WHERE workspace_id = $1 ORDER BY id", [workspaceId]);
      return rows.map(apiKeyFromRow);
    },

    async revokeApiKey(id, at) {
      const rows = await db.query("UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL RETURNING id", [id, at]);
      return rows.length > 0;
    },

    async setApiKeyScopes(id, scopes) {
      const rows = await db.query("UPDATE api_keys SET scopes = $2 WHERE id = $1 AND revoked_at IS NULL RETURNING id", [id, scopesToText(scopes)]);
      return rows.length > 0;
    },

    async getIntents(ids) {
      const found = [];
      for (let i = 0; i < ids.length; i += IN_LIST_CHUNK) {
        const chunk = ids.slice(i, i + IN_LIST_CHUNK);
        const rows = await db.query(`SELECT * FROM intents WHERE id IN (${placeholders(chunk.length, 1)})`, chunk);
        found.push(...rows.map(intentFromRow));
      }
      return found;
    },

    async getIntent(workspaceId, id) {
      return first(await db.query("SELECT * FROM intents WHERE workspace_id = $1 AND id = $2", [workspaceId, id]), intentFromRow);
    },

    async getIntentByAccountId(workspaceId, accountId) {
      // Several intents may name one account over time (reconnects); the newest is the relevant one.
      const rows = await db.query("SELECT * FROM intents WHERE workspace_id = $1 AND account_id = $2 ORDER BY id DESC LIMIT 1", [workspaceId, accountId]);
      return first(rows, intentFromRow);
    },

    async updateOpenIntent(id, patch, expectedRevision) {
      const columns = intentPatchToRow(patch);
      const params = Object.values(columns);
      const expected = expectedRevision === undefined ? "" : ` AND revision = $${params.length + 2}`;
      if (params.length === 0) return first(await db.query("SELECT * FROM intents WHERE id = $1 AND closed_at IS NULL", [id]), intentFromRow);
      const update = `UPDATE intents SET ${assignments(columns, 2)}, revision = revision + 1 WHERE id = $1 AND closed_at IS NULL${expected} RETURNING *`;
      const values = expectedRevision === undefined ? [id, ...params] : [id, ...params, expectedRevision];
      const closesReconnect = patch.closedAt && isReconnectState(patch.state);
      // A reconnection that ends otherwise than connected puts its account's status back, in the same transaction.
      const rows = closesReconnect
        ? await db.transaction(async (tx) => {
            const closed = await tx.query(update, values);
            await revertReconnects(tx, closed.map((row) => text(row.account_id)), patch.closedAt!);
            return closed;
          })
        : await db.query(update, values);
      return first(announceRows(rows), intentFromRow);
    },

    async sweepExpiredIntents(expiredBefore, at, limit) {
      // Replicas sweeping at once skip each other's rows instead of waiting on them. SQLite has one writer: no lock clause.
      const lock = db.kind === "postgres" ? "FOR UPDATE SKIP LOCKED" : "";
      const due = `SELECT id FROM intents WHERE closed_at IS NULL AND expires_at <= $3 ORDER BY expires_at LIMIT $4 ${lock}`;
      const rows = await db.transaction(async (tx) => {
        const swept = await tx.query(
          `UPDATE intents SET ${closing(1, 2)}, error_kind = 'intent_expired' WHERE id IN (${due}) AND closed_at IS NULL RETURNING *`,
          ["EXPIRED", at, expiredBefore, limit],
        );
        // Reconnections swept put their accounts' status back.
        await revertReconnects(tx, swept.map(intentFromRow).filter(wasReconnection).map((intent) => intent.accountId), at);
        return swept;
      });
      return announceRows(rows).map(intentFromRow);
    },

    async getAccount(workspaceId, id) {
      return first(await db.query("SELECT * FROM accounts WHERE workspace_id = $1 AND id = $2", [workspaceId, id]), accountFromRow);
    },

    async getAccountSummary(workspaceId, id) {
      const [values] = await db.queryValues(GET_ACCOUNT_SUMMARY, [workspaceId, id]);
      return values === undefined ? undefined : accountSummaryFromValues(values);
    },

    async getSealedAccount(workspaceId, id) {
      const [values] = await db.queryValues(GET_SEALED_ACCOUNT, [workspaceId, id]);
      return values === undefined ? undefined : sealedAccountFromValues(values);
    },

    async listAccounts(query) {
      const params: SqlParam[] = [query.workspaceId];
      const where = ["workspace_id = $1"];
      const filter = (column: string, operator: string, value: string) => {
        params.push(value);
        where.push(`${column} ${operator} $${params.length}`);
      };
      if (query.provider !== undefined) filter("provider", "=", query.provider);
      if (query.status !== undefined) filter("status", "=", query.status);
      else where.push("status <> 'DELETED'");
      if (query.afterId !== undefined) filter("id", ">", query.afterId);
      params.push(query.limit);
      const rows = await db.queryValues(`SELECT ${ACCOUNT_SUMMARY_COLUMNS} FROM accounts WHERE ${where.join(" AND ")} ORDER BY id LIMIT $${params.length}`, params);
      return rows.map(accountSummaryFromValues);
    },

    deleteAccount(workspaceId, id, at) {
      return db.transaction(async (tx) => {
        const rows = await tx.query(
          `UPDATE accounts SET status = 'DELETED', status_reason = NULL, status_changed_at = $3, next_check_at = NULL, secrets_key_id = NULL, secrets_envelope = NULL, updated_at = $3
           WHERE workspace_id = $1 AND id = $2 AND status <> 'DELETED' RETURNING id`,
          [workspaceId, id, at],
        );
        if (rows.length === 0) return false;
        await appendEvent(tx, { workspaceId, accountId: id, type: "account.deleted", change: null, at });
        return true;
      });
    },

    async ping() {
      await db.query("SELECT 1");
    },

    async countOpenIntents(now) {
      const [row] = await db.query("SELECT COUNT(*) AS open FROM intents WHERE closed_at IS NULL AND expires_at > $1", [now]);
      return Number(row?.open ?? 0);
    },

    close() {
      return db.close();
    },
  };
}

