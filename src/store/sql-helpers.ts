import { AppError } from "../errors/app-error.ts";
import type { Row, SqlDriver, SqlExecutor, SqlParam } from "./sql.ts";

/** The small SQL builders every part of the SQL store shares. */

export type Statement = [sql: string, params: SqlParam[]];

export function insert(table: string, row: Record<string, SqlParam>, suffix = ""): Statement {
  const columns = Object.keys(row);
  const placeholders = columns.map((_, i) => `$${i + 1}`);
  return [`INSERT INTO ${table} (${columns.join(", ")}) VALUES (${placeholders.join(", ")}) ${suffix}`, Object.values(row)];
}

const builtTexts = new Map<string, string>();

/**
 * A hot statement's text, built the first time its `variant` (a key naming everything the text
 * depends on) is asked for: the same string on every call after, so nothing builds it again or
 * hashes a fresh one (the pg driver finds a prepared statement's name by its text).
 */
export function builtOnce(variant: string, build: () => string): string {
  let text = builtTexts.get(variant);
  if (text === undefined) {
    text = build();
    builtTexts.set(variant, text);
  }
  return text;
}

/** "$first, $first+1, ..." for `count` values (an IN list). */
export function placeholders(count: number, first: number): string {
  return Array.from({ length: count }, (_, i) => `$${first + i}`).join(", ");
}

export function first<T>(rows: Row[], map: (row: Row) => T): T | undefined {
  return rows[0] === undefined ? undefined : map(rows[0]);
}

/** "a = $n, b = $n+1, ..." for the columns of `row`, numbered from `first`. */
export function assignments(row: Record<string, SqlParam>, first: number): string {
  return Object.keys(row).map((column, i) => `${column} = $${first + i}`).join(", ");
}

/**
 * Runs an INSERT ... ON CONFLICT DO NOTHING RETURNING, and on conflict reads the row that
 * holds the key. Tried again if that row is already gone (closed or deleted by someone
 * else between the two statements, possible under PostgreSQL's READ COMMITTED).
 */
export async function insertOrFind(tx: SqlExecutor, insertion: Statement, find: Statement): Promise<{ inserted: Row } | { existing: Row }> {
  for (let attempt = 0; attempt < UNIQUE_KEY_ATTEMPTS; attempt++) {
    const [inserted] = await tx.query(...insertion);
    if (inserted) return { inserted };
    const [existing] = await tx.query(...find);
    if (existing) return { existing };
  }
  throw keptChanging();
}

/** Tries of a write whose conflicting row vanished before it could be read (PostgreSQL's READ COMMITTED). */
export const UNIQUE_KEY_ATTEMPTS = 3;

/** What a write answers once its UNIQUE_KEY_ATTEMPTS are spent. */
export function keptChanging(): AppError {
  return new AppError("service_unavailable", { detail: "The row kept changing under a unique key." });
}

/** Thrown inside a transaction to roll it back while still answering `result` (see rollingBack). */
export class Rollback<T> {
  readonly result: T;
  constructor(result: T) {
    this.result = result;
  }
}

/** A transaction that `fn` may end with `throw new Rollback(result)`: nothing it wrote stays, `result` is answered. */
export async function rollingBack<T>(db: SqlDriver, fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
  try {
    return await db.transaction(fn);
  } catch (e) {
    if (e instanceof Rollback) return e.result as T;
    throw e;
  }
}
