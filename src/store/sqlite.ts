import { DatabaseSync, type SQLInputValue, type StatementSync } from "node:sqlite";
import { AppError } from "../errors/app-error.ts";
import { migrate } from "./migrations.ts";
import type { SqlDriver, SqlExecutor, SqlParam } from "./sql.ts";
import { createSqlStore } from "./sql-store.ts";
import type { Store } from "./store.ts";

/** The embedded backend: one node:sqlite connection on a file (or ":memory:"). */
export async function openSqliteStore(options: { path: string }): Promise<Store> {
  const db = guard(() => new DatabaseSync(options.path));
  const driver = sqliteDriver(db);
  try {
    // WAL lets readers in other processes (e.g. the CLI) work while the server writes;
    // busy_timeout makes a locked database wait before it fails.
    await driver.exec("PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;");
    await driver.transaction((tx) => migrate(tx, "sqlite"));
  } catch (e) {
    db.close();
    throw e;
  }
  return createSqlStore(driver);
}

function sqliteDriver(db: DatabaseSync): SqlDriver {
  const statements = new Map<string, StatementSync>();
  const prepared = (sql: string) => {
    let statement = statements.get(sql);
    if (statement === undefined) {
      statement = db.prepare(sql);
      statements.set(sql, statement);
    }
    return statement;
  };

  // Runs straight on the connection: for use inside a turn of `serial`.
  const direct: SqlExecutor = {
    async query(sql, params = []) {
      return guard(() => prepared(sql).all(bindings(params)));
    },
    async exec(script) {
      guard(() => db.exec(script));
    },
  };

  // There is one connection, so an await inside a transaction must not let another caller's
  // statement run on it (it would join, or be undone with, that transaction): calls take turns.
  let tail: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const turn = tail.then(fn);
    tail = turn.catch(() => undefined);
    return turn;
  };

  return {
    kind: "sqlite",
    query: (sql, params) => serial(() => direct.query(sql, params)),
    exec: (script) => serial(() => direct.exec(script)),
    transaction: (fn) =>
      serial(async () => {
        // IMMEDIATE takes the write lock up front, so another process can't make us fail half-way.
        await direct.exec("BEGIN IMMEDIATE");
        try {
          const result = await fn(direct);
          await direct.exec("COMMIT");
          return result;
        } catch (e) {
          if (db.isTransaction) db.exec("ROLLBACK");
          throw e;
        }
      }),
    close: () => serial(async () => db.close()),
  };
}

/** `$1..$n` are named parameters to SQLite; node:sqlite binds them from keys "1".."n". */
function bindings(params: readonly SqlParam[]): Record<string, SQLInputValue> {
  return Object.fromEntries(params.map((value, i) => [String(i + 1), value instanceof Date ? value.getTime() : value]));
}

// Primary result codes meaning the database can't be used right now, as opposed to a bad statement.
const SQLITE_BUSY = 5;
const SQLITE_LOCKED = 6;
const SQLITE_IOERR = 10;
const SQLITE_FULL = 13;
const SQLITE_CANTOPEN = 14;
const unavailable = new Set([SQLITE_BUSY, SQLITE_LOCKED, SQLITE_IOERR, SQLITE_FULL, SQLITE_CANTOPEN]);

function guard<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    const code = e instanceof Error && "errcode" in e && typeof e.errcode === "number" ? e.errcode & 0xff : undefined;
    if (code !== undefined && unavailable.has(code)) throw new AppError("service_unavailable", { cause: e });
    throw e;
  }
}
