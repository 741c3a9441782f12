import { existsSync } from "node:fs";
import { join } from "node:path";
import { ensureDataDir, ensurePrivateFile } from "../data-dir.ts";
import { openSqliteStore } from "./sqlite.ts";
import type { Store } from "./store.ts";

/** PostgreSQL when a database URL is configured, else the embedded SQLite file in the data directory. */
export async function openStore(config: { databaseUrl?: string; dataDir: string; connectTimeoutMs?: number }): Promise<Store> {
  if (config.databaseUrl) {
    // Loaded only when used: the embedded store's start-up does without the pg driver.
    const { openPostgresStore } = await import("./postgres.ts");
    return openPostgresStore({ connectionString: config.databaseUrl, connectTimeoutMs: config.connectTimeoutMs });
  }
  ensureDataDir(config.dataDir);
  const path = join(config.dataDir, "accounts.db");
  // Before SQLite creates them with its default 0644: the -wal and -shm files follow the database's mode.
  ensurePrivateFile(path);
  for (const sidecar of [`${path}-wal`, `${path}-shm`]) if (existsSync(sidecar)) ensurePrivateFile(sidecar);
  return openSqliteStore({ path });
}
