import { accountFromRow, accountToRow, intentFromRow, intentToRow, text } from "./rows.ts";
import { appendEvent, outboxStatements } from "./outbox.ts";
import { isReconnectIdentity } from "./reconnect-status.ts";
import type { Row, SqlDriver, SqlParam } from "./sql.ts";
import { builtOnce, first, insert, insertOrFind, keptChanging, Rollback, rollingBack, UNIQUE_KEY_ATTEMPTS } from "./sql-helpers.ts";
import { closeConnected, closedColumns, openIntentIn, type PendingBound } from "./sql-intents.ts";
import type { InsertAccountResult, Store } from "./store.ts";

/**
 * The two writes of every ConnectAccount: opening the intent, and creating the account while
 * closing it. On PostgreSQL each is one statement (data-modifying CTEs, atomic without a
 * BEGIN/COMMIT round trip each), since round trips are what a ConnectAccount spends its time
 * on there; SQLite (no UPDATE/INSERT inside WITH, and no round trips) runs the same steps as
 * a transaction. The partial unique indexes settle races the same way on both.
 *
 * A reconnection's intent (identity key `account:<id>`) opens through the transaction on both:
 * expiring or canceling one may have to put its account's status back (openIntentIn), which
 * the one statement does not do. ConnectAccount's own keys never name an account.
 */
export function createConnectWrites(db: SqlDriver, announce: (intentIds: readonly string[]) => void, bound: PendingBound | undefined): Pick<Store, "openIntent" | "insertAccount"> {
  const transactional = transactionWrites(db, announce, bound);
  return db.kind === "postgres" ? postgresWrites(db, announce, transactional) : transactional;
}

const OPEN_FOR_IDENTITY = "workspace_id = $1 AND provider = $2 AND identity_key = $3 AND closed_at IS NULL";
/** Every ConnectAccount runs the two statements below, whose texts vary only with the cap being set: parsed and planned once per connection. Their result columns are named (the rows' own columns) for that. */
const PREPARED = { prepared: true };

type ConnectWrites = Pick<Store, "openIntent" | "insertAccount">;

function postgresWrites(db: SqlDriver, announce: (intentIds: readonly string[]) => void, transactional: ConnectWrites): ConnectWrites {
  return {
    async openIntent(intent, now, restart = false, maxOpen) {
      if (isReconnectIdentity(intent.identityKey)) return transactional.openIntent(intent, now, restart, maxOpen);
      const row = intentToRow(intent);
      const params: SqlParam[] = [intent.workspaceId, intent.provider, intent.identityKey, now, ...Object.values(row)];
      if (maxOpen !== undefined) params.push(maxOpen);
      const sql = builtOnce(`connect open ${restart} ${maxOpen !== undefined}`, () => openIntentText(Object.keys(row), restart, maxOpen !== undefined));
      for (let attempt = 0; attempt < UNIQUE_KEY_ATTEMPTS; attempt++) {
        const [result] = await db.query(sql, params, PREPARED);
        const written = [...((result?.ended_ids as string[] | null) ?? []), ...(result?.id == null ? [] : [text(result.id)])];
        if (written.length > 0) announce(written);
        if (result?.id != null) return { opened: intentFromRow(result) };
        if (maxOpen !== undefined && Number(result?.pending_intents) >= maxOpen) return { tooMany: { limit: maxOpen } };
        const existing = first(await db.query(`SELECT * FROM intents WHERE ${OPEN_FOR_IDENTITY}`, params.slice(0, 3)), intentFromRow);
        if (existing) return { inProgress: existing };
        // Closed by someone else between the two statements: open again.
      }
      throw keptChanging();
    },

    async insertAccount(account, intentId, now) {
      const row = accountToRow(account);
      const params: SqlParam[] = [intentId, account.workspaceId, now, ...Object.values(row)];
      const outbox = outboxStatements("account_row", params, { workspaceId: account.workspaceId, accountId: account.id, type: "account.connected", change: null, at: now });
      const sql = builtOnce("connect insert", () => insertAccountText(Object.keys(row), outbox));
      for (let attempt = 0; attempt < UNIQUE_KEY_ATTEMPTS; attempt++) {
        const [result] = await db.query(sql, params, PREPARED);
        if (result?.id != null) {
          announce([intentId]);
          return { inserted: accountFromRow(result) };
        }
        if (Number(result?.intent_open) === 0) {
          const gone = await db.query("SELECT * FROM intents WHERE id = $1 AND workspace_id = $2", [intentId, account.workspaceId]);
          return { intentGone: first(gone, intentFromRow) ?? null };
        }
        // The identity is linked already: the intent stays open for the caller to fail it with its own error kind.
        const identity = [account.workspaceId, account.provider, account.identity.providerUserId];
        const [existing] = await db.query("SELECT id FROM accounts WHERE workspace_id = $1 AND provider = $2 AND provider_user_id = $3 AND status <> 'DELETED'", identity);
        if (existing) return { duplicateOf: text(existing.id) };
        // Deleted between the two statements: insert again.
      }
      throw keptChanging();
    },
  };
}

/** openIntent's statement: $1-$4 workspace, provider, identity key, now; then the intent's columns; then the cap if `capped`. */
function openIntentText(columns: readonly string[], restart: boolean, capped: boolean): string {
  const values = columns.map((_, i) => `$${i + 5}`).join(", ");
  // A restart ends whatever is open for the identity (CANCELED, or EXPIRED if it is); an open alone ends only an expired one.
  const ending = restart ? OPEN_FOR_IDENTITY : `${OPEN_FOR_IDENTITY} AND expires_at <= $4`;
  let pending = "";
  let underCap = "";
  if (capped) {
    const cap = `$${columns.length + 5}`;
    // No lock, as before: opens in the same instant on several connections may pass the cap by as many as run at once.
    // The statement's snapshot still counts the intent it cancels: counted one past the cap, less that one.
    pending = `, pending AS (
      SELECT (SELECT COUNT(*) FROM (SELECT 1 FROM intents WHERE workspace_id = $1 AND closed_at IS NULL AND expires_at > $4 LIMIT ${cap} + 1) AS p)
           - (SELECT COUNT(*) FROM ended WHERE status = 'CANCELED') AS n)`;
    underCap = ` AND (SELECT n FROM pending) < ${cap}`;
  }
  // The INSERT reads `ended` so that the earlier intent is closed (out of the partial unique index) before it inserts.
  return `WITH ended AS (
      UPDATE intents SET status = CASE WHEN expires_at <= $4 THEN 'EXPIRED' ELSE 'CANCELED' END, ${closedColumns("$4")}
      WHERE ${ending} RETURNING id, status
    )${pending}, opened AS (
      INSERT INTO intents (${columns.join(", ")}) SELECT ${values} WHERE (SELECT COUNT(*) FROM ended) >= 0${underCap}
      ON CONFLICT (workspace_id, provider, identity_key) WHERE closed_at IS NULL DO NOTHING RETURNING ${columns.join(", ")}
    )
    SELECT (SELECT array_agg(id) FROM ended) AS ended_ids, ${capped ? "(SELECT n FROM pending)" : "0"} AS pending_intents,
           ${columns.map((column) => `opened.${column}`).join(", ")}
    FROM (SELECT 1) AS one LEFT JOIN opened ON true`;
}

/** insertAccount's statement: $1-$3 intent id, workspace, now; then the account's columns; then the outbox's. */
function insertAccountText(columns: readonly string[], outbox: string): string {
  const values = columns.map((_, i) => `$${i + 4}`).join(", ");
  // The intent's row lock first, so a concurrent restart or close waits for us (or we for it); the account
  // only if the intent is open and unexpired; the intent closed and the event written only if the account was.
  return `WITH target AS (
      SELECT id FROM intents WHERE id = $1 AND workspace_id = $2 AND closed_at IS NULL AND expires_at > $3 FOR UPDATE
    ), account_row AS (
      INSERT INTO accounts (${columns.join(", ")}) SELECT ${values} FROM target
      ON CONFLICT (workspace_id, provider, provider_user_id) WHERE status <> 'DELETED' DO NOTHING RETURNING ${columns.join(", ")}
    ), closed AS (
      UPDATE intents SET status = 'CONNECTED', ${closedColumns("$3")}
      WHERE id = $1 AND closed_at IS NULL AND EXISTS (SELECT 1 FROM account_row) RETURNING id
    ), ${outbox}
    SELECT (SELECT COUNT(*) FROM target) AS intent_open, ${columns.map((column) => `account_row.${column}`).join(", ")}
    FROM (SELECT 1) AS one LEFT JOIN account_row ON true`;
}

function transactionWrites(db: SqlDriver, announce: (intentIds: readonly string[]) => void, bound: PendingBound | undefined): ConnectWrites {
  return {
    async openIntent(intent, now, restart = false, maxOpen) {
      const written: Row[] = [];
      const result = await db.transaction((tx) => openIntentIn(tx, intent, now, restart, maxOpen, written, bound));
      if (written.length > 0) announce(written.map((row) => text(row.id)));
      return result;
    },

    async insertAccount(account, intentId, now) {
      const result = await rollingBack(db, async (tx): Promise<InsertAccountResult> => {
        const gone = await closeConnected(tx, intentId, account.workspaceId, now);
        if (gone) return gone;
        const identity = [account.workspaceId, account.provider, account.identity.providerUserId];
        const outcome = await insertOrFind(
          tx,
          insert("accounts", accountToRow(account), "ON CONFLICT (workspace_id, provider, provider_user_id) WHERE status <> 'DELETED' DO NOTHING RETURNING *"),
          ["SELECT id FROM accounts WHERE workspace_id = $1 AND provider = $2 AND provider_user_id = $3 AND status <> 'DELETED'", identity],
        );
        // A duplicate undoes the intent's close: the intent stays open for the caller to fail it with its own error kind.
        if ("existing" in outcome) throw new Rollback<InsertAccountResult>({ duplicateOf: text(outcome.existing.id) });
        await appendEvent(tx, { workspaceId: account.workspaceId, accountId: account.id, type: "account.connected", change: null, at: now });
        return { inserted: accountFromRow(outcome.inserted) };
      });
      if ("inserted" in result) announce([intentId]);
      return result;
    },
  };
}
