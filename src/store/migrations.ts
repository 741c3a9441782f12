import type { SqlDriver, SqlExecutor } from "./sql.ts";

/** The column types that differ between the backends; the rest of the DDL is shared. */
interface ColumnTypes {
  id: string;
  time: string;
  bytes: string;
  json: string;
  /** DDL that makes every intent write announce itself to the other replicas (PostgreSQL only). */
  intentNotify: string;
  /** A 64-bit counter that only grows: the events' cursor. */
  serialKey: string;
  bigint: string;
  /** DDL of the events' public cursor, numbered after commit (PostgreSQL only: see event-numbering.ts). */
  eventCursor: string;
}

export const columnTypes: Record<SqlDriver["kind"], ColumnTypes> = {
  // SQLite compares TEXT bytewise and keeps times as Unix milliseconds.
  sqlite: { id: "TEXT", time: "INTEGER", bytes: "BLOB", json: "TEXT", intentNotify: "", serialKey: "INTEGER PRIMARY KEY AUTOINCREMENT", bigint: "INTEGER", eventCursor: "" },
  // "C" collation so ids (ULIDs) sort bytewise whatever the database's locale: listAccounts pages by id.
  postgres: {
    id: 'TEXT COLLATE "C"',
    time: "TIMESTAMPTZ",
    bytes: "BYTEA",
    json: "JSONB",
    serialKey: "BIGSERIAL PRIMARY KEY",
    bigint: "BIGINT",
    // pos: the stream's cursor, NULL until the event is numbered. Existing events keep their seq as
    // their cursor, so cursors handed out before stay valid; the numbering counts on from there.
    // The stream reads by (workspace_id, pos) and numbers what the partial index lists, so the
    // index by (workspace_id, seq) is no longer read and each event insert maintains no more indexes than before.
    eventCursor: `
      ALTER TABLE events ADD COLUMN pos BIGINT;
      UPDATE events SET pos = seq;
      CREATE SEQUENCE events_pos;
      SELECT setval('events_pos', COALESCE((SELECT max(seq) FROM events), 0) + 1, false);
      CREATE UNIQUE INDEX events_workspace_pos ON events (workspace_id, pos) WHERE pos IS NOT NULL;
      CREATE INDEX events_unnumbered ON events (workspace_id, seq) WHERE pos IS NULL;
      DROP INDEX events_workspace;
    `,
    // A trigger, so every writer (any replica, the CLI, a sweep) notifies, in its own transaction
    // (delivered on commit), without a round trip. One channel per schema: see intentChannel().
    // Only interactive intents: nobody watches a one-shot one, and a transaction that notifies
    // commits under PostgreSQL's global notify lock (one at a time), which a burst of one-shot
    // connects must not queue on.
    intentNotify: `
      CREATE FUNCTION notify_intent_change() RETURNS trigger LANGUAGE plpgsql AS $fn$
      BEGIN
        PERFORM pg_notify('intents_' || TG_TABLE_SCHEMA, NEW.id);
        RETURN NULL;
      END
      $fn$;
      CREATE TRIGGER intents_notify AFTER INSERT OR UPDATE ON intents FOR EACH ROW
        WHEN (NEW.state ->> 'flow' = 'interactive') EXECUTE FUNCTION notify_intent_change();
    `,
  },
};

interface Migration {
  version: number;
  sql: (t: ColumnTypes) => string;
}

/** Append only: a released migration never changes, a new version follows it. */
export const migrations: readonly Migration[] = [
  {
    version: 1,
    sql: (t) => `
      CREATE TABLE workspaces (
        id ${t.id} PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        created_at ${t.time} NOT NULL
      );

      CREATE TABLE api_keys (
        id ${t.id} PRIMARY KEY,
        workspace_id ${t.id} NOT NULL REFERENCES workspaces (id),
        secret_hash ${t.bytes} NOT NULL,
        label TEXT NOT NULL,
        created_at ${t.time} NOT NULL,
        revoked_at ${t.time}
      );
      CREATE INDEX api_keys_workspace ON api_keys (workspace_id);

      CREATE TABLE intents (
        id ${t.id} PRIMARY KEY,
        workspace_id ${t.id} NOT NULL REFERENCES workspaces (id),
        provider TEXT NOT NULL,
        identity_key TEXT NOT NULL,
        account_id ${t.id} NOT NULL,
        status TEXT NOT NULL,
        created_at ${t.time} NOT NULL,
        updated_at ${t.time} NOT NULL,
        expires_at ${t.time} NOT NULL,
        closed_at ${t.time},
        error_kind TEXT,
        state ${t.json},
        secrets_key_id TEXT,
        secrets_envelope ${t.bytes}
      );
      -- At most one open intent per identity: the database, not the code, settles races.
      CREATE UNIQUE INDEX intents_open_identity ON intents (workspace_id, provider, identity_key) WHERE closed_at IS NULL;
      CREATE INDEX intents_account ON intents (workspace_id, account_id);

      CREATE TABLE accounts (
        id ${t.id} PRIMARY KEY,
        workspace_id ${t.id} NOT NULL REFERENCES workspaces (id),
        provider TEXT NOT NULL,
        auth_method TEXT NOT NULL,
        provider_user_id TEXT NOT NULL,
        display_name TEXT,
        handle TEXT,
        email TEXT,
        status TEXT NOT NULL,
        options ${t.json} NOT NULL,
        secrets_key_id TEXT,
        secrets_envelope ${t.bytes},
        access_token_expires_at ${t.time},
        created_at ${t.time} NOT NULL,
        updated_at ${t.time} NOT NULL
      );
      -- No twin accounts: one live account per provider identity in a workspace.
      CREATE UNIQUE INDEX accounts_live_identity ON accounts (workspace_id, provider, provider_user_id) WHERE status <> 'DELETED';
      CREATE INDEX accounts_workspace ON accounts (workspace_id, id);
    `,
  },
  {
    // Issue 17: the status lifecycle, health checks, the event outbox and webhooks.
    version: 2,
    sql: (t) => `
      ALTER TABLE accounts ADD COLUMN status_reason TEXT;
      ALTER TABLE accounts ADD COLUMN status_changed_at ${t.time};
      -- NULL: not scheduled yet (the health checker schedules it on first sight).
      ALTER TABLE accounts ADD COLUMN next_check_at ${t.time};
      -- Transient failures in a row: ERROR only after several.
      ALTER TABLE accounts ADD COLUMN check_failures INTEGER NOT NULL DEFAULT 0;
      UPDATE accounts SET status_changed_at = updated_at;
      CREATE INDEX accounts_due_checks ON accounts (next_check_at) WHERE status IN ('CONNECTED', 'ERROR');

      -- The outbox: written in the transaction of the change it announces. seq is the stream's cursor.
      CREATE TABLE events (
        seq ${t.serialKey},
        id ${t.id} NOT NULL UNIQUE,
        workspace_id ${t.id} NOT NULL REFERENCES workspaces (id),
        account_id ${t.id} NOT NULL,
        type TEXT NOT NULL,
        data ${t.json} NOT NULL,
        created_at ${t.time} NOT NULL
      );
      CREATE INDEX events_workspace ON events (workspace_id, seq);

      CREATE TABLE webhook_endpoints (
        id ${t.id} PRIMARY KEY,
        workspace_id ${t.id} NOT NULL REFERENCES workspaces (id),
        url TEXT NOT NULL,
        event_types ${t.json} NOT NULL,
        status TEXT NOT NULL,
        disabled_reason TEXT,
        secrets_key_id TEXT NOT NULL,
        secrets_envelope ${t.bytes} NOT NULL,
        created_at ${t.time} NOT NULL,
        updated_at ${t.time} NOT NULL
      );
      CREATE INDEX webhook_endpoints_workspace ON webhook_endpoints (workspace_id, id);

      -- One row per (event, endpoint), fanned out with the event: the delivery outbox.
      CREATE TABLE webhook_deliveries (
        id ${t.id} PRIMARY KEY,
        workspace_id ${t.id} NOT NULL,
        endpoint_id ${t.id} NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
        event_seq ${t.bigint} NOT NULL REFERENCES events (seq),
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at ${t.time} NOT NULL,
        last_attempt_at ${t.time},
        last_status_code INTEGER,
        last_error TEXT,
        created_at ${t.time} NOT NULL,
        delivered_at ${t.time}
      );
      CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'PENDING';
      CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, id);
    `,
  },
  {
    // API key scopes, space-separated (auth/scopes.ts). A row written without them grants
    // nothing; the keys that existed before keep what they could do (accounts read and write),
    // plus the workspace's events and webhooks, which came with them: auth/scopes.ts DEFAULT_SCOPES.
    version: 3,
    sql: () => `
      ALTER TABLE api_keys ADD COLUMN scopes TEXT NOT NULL DEFAULT '';
      UPDATE api_keys SET scopes = 'accounts:read accounts:write events:read webhooks:write';
    `,
  },
  {
    // Issue 13: the intent engine (compare-and-set writes, the sweep, cross-replica notifications).
    version: 4,
    sql: (t) => `
      -- The intent engine's compare-and-set counter.
      ALTER TABLE intents ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
      -- The sweep finds expired open intents without reading closed ones.
      CREATE INDEX intents_open_expiry ON intents (expires_at) WHERE closed_at IS NULL;
      ${t.intentNotify}
    `,
  },
  {
    // Issue 16: ReconnectAccount. While a reconnection's intent is open the account is
    // RECONNECTING; this is the status it goes back to if that intent fails, is canceled or expires.
    version: 5,
    sql: () => `
      ALTER TABLE accounts ADD COLUMN status_before_reconnect TEXT;
    `,
  },
  {
    // Issue 16: GetCredentials answers an OAuth token's scopes from the store too, not only
    // right after a refresh: what the token endpoint last granted (RFC 6749 scope, space-separated), NULL when it never said.
    version: 6,
    sql: () => `
      ALTER TABLE accounts ADD COLUMN granted_scopes TEXT;
    `,
  },
  {
    // Issue 18: the pending-intent cap counts a workspace's open intents on every ConnectAccount;
    // without this the count walked every intent the workspace ever had (closed ones included).
    version: 7,
    sql: () => `
      CREATE INDEX intents_open_workspace ON intents (workspace_id, expires_at) WHERE closed_at IS NULL;
    `,
  },
  {
    // Issue 18: on PostgreSQL the stream's cursor is given after commit (event-numbering.ts), so an
    // event insert no longer holds a per-workspace lock through its commit. SQLite keeps seq.
    version: 8,
    sql: (t) => t.eventCursor,
  },
];

/** The LISTEN/NOTIFY channel of the intents table in `schema` (the trigger's name for it). */
export function intentChannel(schema: string): string {
  return `intents_${schema}`;
}

/**
 * Applies the migrations not yet recorded in schema_migrations. Call it inside a
 * transaction so a failing migration leaves nothing behind (DDL is transactional in both).
 */
export async function migrate(tx: SqlExecutor, kind: SqlDriver["kind"]): Promise<void> {
  const t = columnTypes[kind];
  await tx.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at ${t.time} NOT NULL)`);
  const applied = new Set((await tx.query("SELECT version FROM schema_migrations")).map((row) => Number(row.version)));
  for (const migration of migrations) {
    if (applied.has(migration.version)) continue;
    await tx.exec(migration.sql(t));
    await tx.query("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)", [migration.version, new Date()]);
  }
}
