import { AppError } from "../errors/app-error.ts";
import {
  ACCOUNT_SUMMARY_COLUMNS,
  accountFromRow,
  accountSummaryFromRow,
  accountToRow,
  apiKeyFromRow,
  apiKeyToRow,
  scopesToText,
  intentFromRow,
  intentPatchToRow,
  intentToRow,
  secretsFromRow,
  secretsToRow,
  text,
  workspaceFromRow,
  workspaceToRow,
} from "./rows.ts";
import { appendEvent } from "./outbox.ts";
import type { Row, SqlDriver, SqlParam } from "./sql.ts";
import { createEventStore } from "./sql-events.ts";
import { assignments, first, insert, insertOrFind } from "./sql-helpers.ts";
import { createWebhookStore } from "./sql-webhooks.ts";
import type { InsertAccountResult, IntentChanges, StaleSecret, Store } from "./store.ts";

export interface SqlStoreChanges {
  /** What subscribers of store.changes hear. */
  feed: IntentChanges;
  /** Called with the ids of intents this process wrote, after the write committed; unset where the database announces writes itself (PostgreSQL's trigger). */
  announce?: (intentIds: readonly string[]) => void;
}

/** Rows one IN (...) list reads at most. */
const IN_LIST_CHUNK = 500;

/**
 * The Store for both backends. Every statement here is valid PostgreSQL and SQLite alike;
 * uniqueness races are settled by INSERT ... ON CONFLICT DO NOTHING against the partial
 * unique indexes, which neither throws nor (in PostgreSQL) aborts the transaction.
 */
export function createSqlStore(db: SqlDriver, changes: SqlStoreChanges): Store {
  const announce = changes.announce ?? (() => {});
  const announceRows = (rows: Row[]) => {
    if (rows.length > 0) announce(rows.map((row) => text(row.id)));
    return rows;
  };
  return {
    kind: db.kind,
    changes: changes.feed,
    ...createEventStore(db),
    ...createWebhookStore(db),

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

    async openIntent(intent, now, restart = false, maxOpen) {
      const written: Row[] = [];
      const result = await db.transaction(async (tx) => {
        const identity = [intent.workspaceId, intent.provider, intent.identityKey];
        const openForIdentity = "workspace_id = $1 AND provider = $2 AND identity_key = $3 AND closed_at IS NULL";
        written.push(...(await tx.query(`UPDATE intents SET ${closing(4, 5)} WHERE ${openForIdentity} AND expires_at <= $5 RETURNING id`, [...identity, "EXPIRED", now])));
        if (restart) written.push(...(await tx.query(`UPDATE intents SET ${closing(4, 5)} WHERE ${openForIdentity} RETURNING id`, [...identity, "CANCELED", now])));
        if (maxOpen !== undefined) {
          // No lock: opens in the same instant on PostgreSQL may pass the cap by as many as run at once
          // (a lock per workspace would serialize every connect of a busy workspace). SQLite has one writer: exact.
          // Counted up to the cap only: the cost of an open stays bounded however many are pending.
          const pending = "SELECT 1 FROM intents WHERE workspace_id = $1 AND closed_at IS NULL AND expires_at > $2 LIMIT $3";
          const [row] = await tx.query(`SELECT COUNT(*) AS n FROM (${pending}) AS pending`, [intent.workspaceId, now, maxOpen]);
          if (Number(row?.n ?? 0) >= maxOpen) return { tooMany: { limit: maxOpen } };
        }
        const outcome = await insertOrFind(
          tx,
          insert("intents", intentToRow(intent), "ON CONFLICT (workspace_id, provider, identity_key) WHERE closed_at IS NULL DO NOTHING RETURNING *"),
          [`SELECT * FROM intents WHERE ${openForIdentity}`, identity],
        );
        if ("inserted" in outcome) written.push(outcome.inserted);
        return "inserted" in outcome ? { opened: intentFromRow(outcome.inserted) } : { inProgress: intentFromRow(outcome.existing) };
      });
      announceRows(written);
      return result;
    },

    async getIntents(ids) {
      const found = [];
      for (let i = 0; i < ids.length; i += IN_LIST_CHUNK) {
        const chunk = ids.slice(i, i + IN_LIST_CHUNK);
        const rows = await db.query(`SELECT * FROM intents WHERE id IN (${chunk.map((_, j) => `$${j + 1}`).join(", ")})`, chunk);
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
      const rows = params.length === 0
        ? await db.query("SELECT * FROM intents WHERE id = $1 AND closed_at IS NULL", [id])
        : announceRows(await db.query(
            `UPDATE intents SET ${assignments(columns, 2)}, revision = revision + 1 WHERE id = $1 AND closed_at IS NULL${expected} RETURNING *`,
            expectedRevision === undefined ? [id, ...params] : [id, ...params, expectedRevision],
          ));
      return first(rows, intentFromRow);
    },

    async sweepExpiredIntents(expiredBefore, at, limit) {
      // Replicas sweeping at once skip each other's rows instead of waiting on them. SQLite has one writer: no lock clause.
      const lock = db.kind === "postgres" ? "FOR UPDATE SKIP LOCKED" : "";
      const due = `SELECT id FROM intents WHERE closed_at IS NULL AND expires_at <= $3 ORDER BY expires_at LIMIT $4 ${lock}`;
      const rows = await db.query(
        `UPDATE intents SET ${closing(1, 2)}, error_kind = 'intent_expired' WHERE id IN (${due}) AND closed_at IS NULL RETURNING *`,
        ["EXPIRED", at, expiredBefore, limit],
      );
      return announceRows(rows).map(intentFromRow);
    },

    async insertAccount(account, intentId, now) {
      try {
        return await db.transaction(async (tx): Promise<InsertAccountResult> => {
          // Closing the intent first takes its row lock, so a concurrent restart or close waits for us (or we for it).
          const closed = await tx.query(
            `UPDATE intents SET ${closing(3, 4)} WHERE id = $1 AND workspace_id = $2 AND closed_at IS NULL AND expires_at > $4 RETURNING id`,
            [intentId, account.workspaceId, "CONNECTED", now],
          );
          if (closed.length === 0) {
            const gone = await tx.query("SELECT * FROM intents WHERE id = $1 AND workspace_id = $2", [intentId, account.workspaceId]);
            return { intentGone: first(gone, intentFromRow) ?? null };
          }
          const identity = [account.workspaceId, account.provider, account.identity.providerUserId];
          const outcome = await insertOrFind(
            tx,
            insert("accounts", accountToRow(account), "ON CONFLICT (workspace_id, provider, provider_user_id) WHERE status <> 'DELETED' DO NOTHING RETURNING *"),
            ["SELECT id FROM accounts WHERE workspace_id = $1 AND provider = $2 AND provider_user_id = $3 AND status <> 'DELETED'", identity],
          );
          // A duplicate undoes the intent's close: the intent stays open for the caller to fail it with its own error kind.
          if ("existing" in outcome) throw new Rollback({ duplicateOf: text(outcome.existing.id) });
          await appendEvent(tx, db.kind, { workspaceId: account.workspaceId, accountId: account.id, type: "account.connected", change: null, at: now });
          return { inserted: accountFromRow(outcome.inserted) };
        }).then((result) => {
          if ("inserted" in result) announce([intentId]);
          return result;
        });
      } catch (e) {
        if (e instanceof Rollback) return e.result;
        throw e;
      }
    },

    async getAccount(workspaceId, id) {
      return first(await db.query("SELECT * FROM accounts WHERE workspace_id = $1 AND id = $2", [workspaceId, id]), accountFromRow);
    },

    async getAccountSummary(workspaceId, id) {
      return first(await db.query(`SELECT ${ACCOUNT_SUMMARY_COLUMNS} FROM accounts WHERE workspace_id = $1 AND id = $2`, [workspaceId, id]), accountSummaryFromRow);
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
      const rows = await db.query(`SELECT ${ACCOUNT_SUMMARY_COLUMNS} FROM accounts WHERE ${where.join(" AND ")} ORDER BY id LIMIT $${params.length}`, params);
      return rows.map(accountSummaryFromRow);
    },

    deleteAccount(workspaceId, id, at) {
      return db.transaction(async (tx) => {
        const rows = await tx.query(
          `UPDATE accounts SET status = 'DELETED', status_reason = NULL, status_changed_at = $3, next_check_at = NULL, secrets_key_id = NULL, secrets_envelope = NULL, updated_at = $3
           WHERE workspace_id = $1 AND id = $2 AND status <> 'DELETED' RETURNING id`,
          [workspaceId, id, at],
        );
        if (rows.length === 0) return false;
        await appendEvent(tx, db.kind, { workspaceId, accountId: id, type: "account.deleted", change: null, at });
        return true;
      });
    },

    async updateAccountSecrets(workspaceId, id, secrets, accessTokenExpiresAt, at) {
      const columns = { ...secretsToRow(secrets), access_token_expires_at: accessTokenExpiresAt, updated_at: at };
      await db.query(
        `UPDATE accounts SET ${assignments(columns, 3)} WHERE workspace_id = $1 AND id = $2 AND status <> 'DELETED'`,
        [workspaceId, id, ...Object.values(columns)],
      );
    },

    async listStaleSecrets(activeKeyId, limit) {
      const stale = (table: StaleSecret["table"]) =>
        `SELECT '${table}' AS source, id, workspace_id, secrets_key_id, secrets_envelope FROM ${table} WHERE secrets_key_id <> $1`;
      const rows = await db.query(`${stale("accounts")} UNION ALL ${stale("intents")} UNION ALL ${stale("webhook_endpoints")} ORDER BY id LIMIT $2`, [activeKeyId, limit]);
      return rows.map((row) => ({
        table: text(row.source) as StaleSecret["table"],
        id: text(row.id),
        workspaceId: text(row.workspace_id),
        secrets: secretsFromRow(row)!, // not null: "<> $1" leaves out rows without secrets
      }));
    },

    async replaceSecret(ref, next) {
      // Comparing the envelope too, not only the key id, keeps a concurrent rewrite under the same old key.
      const rows = await db.query(
        `UPDATE ${secretTables[ref.table]} SET secrets_key_id = $1, secrets_envelope = $2
         WHERE id = $3 AND workspace_id = $4 AND secrets_key_id = $5 AND secrets_envelope = $6 RETURNING id`,
        [next.keyId, next.envelope, ref.id, ref.workspaceId, ref.secrets.keyId, ref.secrets.envelope],
      );
      return rows.length > 0;
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

/** Maps the caller's table name to a fixed identifier, so nothing from outside is spliced into SQL. */
const secretTables: Record<StaleSecret["table"], string> = { accounts: "accounts", intents: "intents", webhook_endpoints: "webhook_endpoints" };

/** Thrown inside a transaction to roll it back while still answering `result`. */
class Rollback {
  readonly result: InsertAccountResult;
  constructor(result: InsertAccountResult) {
    this.result = result;
  }
}

/** The SET list that ends an intent; its waiting secrets go too, they only served the flow. */
function closing(statusParam: number, atParam: number): string {
  return `status = $${statusParam}, closed_at = $${atParam}, updated_at = $${atParam}, secrets_key_id = NULL, secrets_envelope = NULL, revision = revision + 1`;
}
