import type { SqlDriver, SqlExecutor } from "./sql.ts";

/** The column types that differ between the backends; the rest of the DDL is shared. */
interface ColumnTypes {
  id: string;
  time: string;
  bytes: string;
  json: string;
  /** DDL that makes every intent write announce itself to the other replicas (PostgreSQL only). */
  intentNotify: string;
}

const columnTypes: Record<SqlDriver["kind"], ColumnTypes> = {
  // SQLite compares TEXT bytewise and keeps times as Unix milliseconds.
  sqlite: { id: "TEXT", time: "INTEGER", bytes: "BLOB", json: "TEXT", intentNotify: "" },
  // "C" collation so ids (ULIDs) sort bytewise whatever the database's locale: listAccounts pages by id.
  postgres: {
    id: 'TEXT COLLATE "C"',
    time: "TIMESTAMPTZ",
    bytes: "BYTEA",
    json: "JSONB",
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
    version: 2,
    sql: (t) => `
      -- The intent engine's compare-and-set counter.
      ALTER TABLE intents ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
      -- The sweep finds expired open intents without reading closed ones.
      CREATE INDEX intents_open_expiry ON intents (expires_at) WHERE closed_at IS NULL;
      ${t.intentNotify}
    `,
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
