import pg from "pg";
import { AppError } from "../errors/app-error.ts";
import { IntentChangeFeed } from "./intent-changes.ts";
import { migrate } from "./migrations.ts";
import { startPgListener } from "./pg-listener.ts";
import type { QueryOptions, Row, SqlDriver, SqlExecutor, SqlParam } from "./sql.ts";
import { createSqlStore } from "./sql-store.ts";
import type { Store } from "./store.ts";

export interface PostgresStoreOptions {
  connectionString: string;
  /** Created if missing and put first on every connection's search_path. */
  schema?: string;
  /** Default 10. */
  poolSize?: number;
  /** Default 5000. */
  statementTimeoutMs?: number;
  /** Longest wait for a connection: a new one's connect, or a free one when the pool is exhausted. Default 2000. */
  connectTimeoutMs?: number;
}

/** Any fixed number, the same in every replica: they take turns migrating. */
const MIGRATION_LOCK = 7_031_318_473;

/** The shared backend: a pg Pool. A database that is down makes calls fail, never the process. */
export async function openPostgresStore(options: PostgresStoreOptions): Promise<Store> {
  const { schema } = options;
  // Spliced into SQL and into the startup options, so it must be a plain identifier.
  if (schema !== undefined && !/^[a-z_][a-z0-9_]*$/.test(schema)) throw new TypeError(`Invalid schema name: ${schema}`);
  const statementTimeoutMs = options.statementTimeoutMs ?? 5_000;
  const connectTimeoutMs = options.connectTimeoutMs ?? 2_000;
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.poolSize ?? 10,
    // Also bounds the wait for a free client when the pool is exhausted.
    connectionTimeoutMillis: connectTimeoutMs,
    statement_timeout: statementTimeoutMs,
    // The server can't enforce statement_timeout when the network to it is gone; this client-side bound can.
    query_timeout: statementTimeoutMs + connectTimeoutMs,
    keepAlive: true,
    ...(schema === undefined ? {} : { options: `-c search_path=${schema}` }),
  });
  // An idle client whose connection dies is reported here. The pool has already dropped it
  // and the next checkout connects afresh; without a listener the event would crash the process.
  pool.on("error", () => {});

  const driver = postgresDriver(pool);
  let resolvedSchema = schema;
  try {
    await driver.transaction(async (tx) => {
      // Replicas starting together queue here; the lock also covers CREATE SCHEMA IF NOT EXISTS, which races on its own.
      await tx.query("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK]);
      if (schema !== undefined) await tx.exec(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
      await migrate(tx, "postgres");
      resolvedSchema ??= String((await tx.query("SELECT current_schema() AS s"))[0]?.s);
    });
  } catch (e) {
    await pool.end();
    throw e;
  }
  // The LISTEN connection opens with the first subscriber (the server's hub), never for the CLI.
  const feed = new IntentChangeFeed();
  let listener: { close(): Promise<void> } | undefined;
  const store = createSqlStore({ ...driver, close: async () => {
    await listener?.close();
    await pool.end();
  } }, {
    feed: {
      subscribe(l) {
        listener ??= startPgListener({ connectionString: options.connectionString, schema: resolvedSchema ?? "public", feed, connectTimeoutMs });
        return feed.subscribe(l);
      },
    },
  });
  return store;
}

function postgresDriver(pool: pg.Pool): SqlDriver {
  return {
    kind: "postgres",
    query: (sql, params, options) => run(pool, sql, params, options),
    async queryValues(sql, params) {
      try {
        const result = await pool.query<unknown[]>({ text: sql, values: params === undefined ? undefined : [...params], rowMode: "array" });
        return result.rows;
      } catch (e) {
        throw storeError(e);
      }
    },
    exec: async (script) => {
      await run(pool, script);
    },
    async transaction(fn) {
      const client = await pool.connect().catch((e: unknown) => {
        throw storeError(e);
      });
      // While checked out, a client reports a dead connection as an 'error' event that nobody
      // else listens to; remember it so the client is destroyed, not returned to the pool.
      let broken = false;
      const onError = () => {
        broken = true;
      };
      client.on("error", onError);
      const tx: SqlExecutor = {
        query: (sql, params, options) => run(client, sql, params, options),
        exec: async (script) => {
          await run(client, script);
        },
      };
      try {
        await tx.exec("BEGIN");
        const result = await fn(tx);
        await tx.exec("COMMIT");
        return result;
      } catch (e) {
        await client.query("ROLLBACK").catch(() => {
          broken = true;
        });
        throw e;
      } finally {
        client.off("error", onError);
        client.release(broken);
      }
    },
    close: () => pool.end(),
  };
}

/**
 * Names of prepared statements, one per text, the same on every connection (pg prepares a
 * name on a connection the first time it runs there). Only statements with named result
 * columns are prepared: a prepared `SELECT *` fails once another replica's migration adds a
 * column ("cached plan must not change result type").
 */
const statementNames = new Map<string, string>();

function statementName(sql: string): string {
  let name = statementNames.get(sql);
  if (name === undefined) {
    name = `postpress_${statementNames.size + 1}`;
    statementNames.set(sql, name);
  }
  return name;
}

async function run(target: pg.Pool | pg.PoolClient, sql: string, params?: readonly SqlParam[], options?: QueryOptions): Promise<Row[]> {
  try {
    const values = params === undefined ? undefined : [...params];
    // The text form for the rest: pg copies a config object's every property on each call.
    const result = await (options?.prepared ? target.query({ name: statementName(sql), text: sql, values }) : target.query(sql, values));
    return result.rows;
  } catch (e) {
    throw storeError(e);
  }
}

// SQLSTATE classes that say "the database can't serve you now": 08 connection exception,
// 40 transaction rollback (serialization, deadlock), 53 insufficient resources,
// 57 operator intervention (statement timeout, shutdown), 58 system error.
const unavailableClasses = new Set(["08", "40", "53", "57", "58"]);

/**
 * An answer from the server is a service_unavailable only in the classes above; anything
 * else pg throws (refused, reset, connect or query timeout, pool ended) means the server
 * couldn't be reached at all.
 */
function storeError(e: unknown): unknown {
  if (e instanceof pg.DatabaseError && !unavailableClasses.has(e.code?.slice(0, 2) ?? "")) return e;
  return new AppError("service_unavailable", { cause: e });
}
