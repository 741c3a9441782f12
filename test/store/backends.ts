import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { ulid } from "ulid";
import { openPostgresStore } from "../../src/store/postgres.ts";
import { openSqliteStore } from "../../src/store/sqlite.ts";
import type { Store } from "../../src/store/store.ts";

/** The machine's PostgreSQL (trust auth). */
export const PG_URL = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

/** Where one suite's data lives: open any number of stores on it, drop it at the end. */
export interface Location {
  open(): Promise<Store>;
  drop(): Promise<void>;
}

export interface Backend {
  kind: Store["kind"];
  create(): Promise<Location>;
}

export const backends: Backend[] = [
  {
    kind: "sqlite",
    async create() {
      const dir = await mkdtemp(join(tmpdir(), "store-test-"));
      return {
        open: () => openSqliteStore({ path: join(dir, "accounts.db") }),
        drop: () => rm(dir, { recursive: true, force: true }),
      };
    },
  },
  {
    kind: "postgres",
    async create() {
      const schema = uniqueSchema();
      return {
        open: () => openPostgresStore({ connectionString: PG_URL, schema }),
        drop: () => dropSchema(schema),
      };
    },
  },
];

/** A schema of its own per suite, so suites running in parallel don't see each other's rows. */
export function uniqueSchema(): string {
  return `store_test_${ulid().toLowerCase()}`;
}

/** Runs `fn` on a connection of its own, outside any store. */
export async function withPg<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client(PG_URL);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export function dropSchema(schema: string): Promise<void> {
  return withPg(async (client) => {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  });
}
