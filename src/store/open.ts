import { join } from "node:path";
import { ensureDataDir } from "../data-dir.ts";
import { openSqliteStore } from "./sqlite.ts";
import type { Store } from "./store.ts";

/** PostgreSQL when a database URL is configured, else the embedded SQLite file in the data directory. */
export async function openStore(config: { databaseUrl?: string; dataDir: string }): Promise<Store> {
  if (config.databaseUrl) {
    // Loaded only when used: the embedded store's start-up does without the pg driver.
    const { openPostgresStore } = await import("./postgres.ts");
    return openPostgresStore({ connectionString: config.databaseUrl });
  }
  ensureDataDir(config.dataDir);
  return openSqliteStore({ path: join(config.dataDir, "accounts.db") });
}
