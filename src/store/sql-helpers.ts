import type { Row, SqlParam } from "./sql.ts";

/** The small SQL builders every part of the SQL store shares. */

export type Statement = [sql: string, params: SqlParam[]];

export function insert(table: string, row: Record<string, SqlParam>, suffix = ""): Statement {
  const columns = Object.keys(row);
  const placeholders = columns.map((_, i) => `$${i + 1}`);
  return [`INSERT INTO ${table} (${columns.join(", ")}) VALUES (${placeholders.join(", ")}) ${suffix}`, Object.values(row)];
}

/** "$first, $first+1, ..." for `count` values (an IN list). */
export function placeholders(count: number, first: number): string {
  return Array.from({ length: count }, (_, i) => `$${first + i}`).join(", ");
}

export function first<T>(rows: Row[], map: (row: Row) => T): T | undefined {
  return rows[0] === undefined ? undefined : map(rows[0]);
}
