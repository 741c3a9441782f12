import pg from "pg";
import { ulid } from "ulid";

/** The machine's PostgreSQL (trust auth); override with TEST_DATABASE_URL. */
export const PG_URL = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

/** A schema of its own per suite, so suites running in parallel don't see each other's rows. */
export function uniqueSchema(prefix = "test"): string {
  return `${prefix}_${ulid().toLowerCase()}`;
}

/** Runs `fn` on a connection of its own, outside any store. */
export async function withPg<T>(fn: (client: pg.Client) => Promise<T>, connectionString = PG_URL): Promise<T> {
  const client = new pg.Client(connectionString);
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
