import { join } from "node:path";
import { ensureDataDir } from "../data-dir.ts";
import { openPostgresStore } from "./postgres.ts";
import { openSqliteStore } from "./sqlite.ts";
import type { Store } from "./store.ts";

/** PostgreSQL when a database URL is configured, else the embedded SQLite file in the data directory. */
export async function openStore(config: { databaseUrl?: string; dataDir: string }): Promise<Store> {
  if (config.databaseUrl) return openPostgresStore({ connectionString: config.databaseUrl });
  ensureDataDir(config.dataDir);
  return openSqliteStore({ path: join(config.dataDir, "accounts.db") });
}
