/**
 * The little that sql-store.ts needs from a database, so both backends run the same SQL.
 * Statements use PostgreSQL's `$1..$n` placeholders; node:sqlite accepts them as named
 * parameters, so neither side rewrites SQL.
 */

/** Dates go in as Date (sqlite.ts stores Unix milliseconds), JSON as text, blobs as Buffer. */
export type SqlParam = string | number | Date | Buffer | null;

/** A result row keyed by column name, in the backend's own value types (see rows.ts). */
export type Row = Record<string, unknown>;

export interface QueryOptions {
  prepared?: boolean;
}

export interface SqlExecutor {
  /**
   * One statement. `prepared`: a hot statement whose text is one of a few fixed ones, with its
   * result columns named (no `*`): PostgreSQL parses and plans it once per connection (SQLite
   * prepares every statement once anyway).
   */
  query(sql: string, params?: readonly SqlParam[], options?: QueryOptions): Promise<Row[]>;
  /** Several statements without parameters (migrations). */
  exec(script: string): Promise<void>;
}

/**
 * A result row as its values, in the order of the statement's columns. node:sqlite builds each
 * keyed row as an object in dictionary mode, whose every property read is a hash lookup: on a
 * page of accounts, the store spent as long reading its keyed rows as SQLite spent making them.
 */
export type Values = readonly unknown[];

export interface SqlDriver extends SqlExecutor {
  readonly kind: "sqlite" | "postgres";
  /** One statement outside any transaction, its rows as values (the hot reads: an account, a page of them). */
  queryValues(sql: string, params?: readonly SqlParam[]): Promise<Values[]>;
  /** Commits when `fn` resolves; rolls back and rethrows when it throws. */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
