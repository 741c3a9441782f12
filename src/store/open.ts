import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { openPostgresStore } from "./postgres.ts";
import { openSqliteStore } from "./sqlite.ts";
import type { Store } from "./store.ts";

/** PostgreSQL when a database URL is configured, else the embedded SQLite file in the data directory. */
export async function openStore(config: { databaseUrl?: string; dataDir: string }): Promise<Store> {
  if (config.databaseUrl) return openPostgresStore({ connectionString: config.databaseUrl });
  // The data directory holds account data and keys: only the service's user may enter it.
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  return openSqliteStore({ path: join(config.dataDir, "accounts.db") });
}
