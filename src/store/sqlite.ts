import { DatabaseSync } from "node:sqlite";
import { IntentChangeFeed } from "./intent-changes.ts";
import { migrate } from "./migrations.ts";
import { createSqlStore } from "./sql-store.ts";
import { guard, sqliteDriver } from "./sqlite-driver.ts";
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
  // One process writes this file for the service: its own writes are all there is to announce
  // (the CLI's are found by the hub's slow safety-net poll).
  const feed = new IntentChangeFeed();
  return createSqlStore(driver, { feed, announce: (ids) => ids.forEach((id) => feed.changed(id)) });
}
