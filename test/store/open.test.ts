import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openStore } from "../../src/store/open.ts";
import { dropSchema, PG_URL, uniqueSchema, withPg } from "../support/pg.ts";

describe("openStore", () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("without a database URL, opens SQLite at <dataDir>/accounts.db, creating the directory", async () => {
    dir = await mkdtemp(join(tmpdir(), "open-store-"));
    const dataDir = join(dir, "nested", "data");
    const store = await openStore({ dataDir });
    await store.close();
    expect(store.kind).toBe("sqlite");
    expect(existsSync(join(dataDir, "accounts.db"))).toBe(true);
  });

  it("with a database URL, opens PostgreSQL", async () => {
    dir = await mkdtemp(join(tmpdir(), "open-store-"));
    // The URL's own search_path keeps this test's tables out of the shared public schema.
    const schema = uniqueSchema("store_test");
    await withPg((c) => c.query(`CREATE SCHEMA ${schema}`));
    try {
      const store = await openStore({ databaseUrl: `${PG_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`, dataDir: dir });
      await store.close();
      expect(store.kind).toBe("postgres");
      const tables = await withPg((c) => c.query("SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND table_name = 'accounts'", [schema]));
      expect(tables.rowCount).toBe(1);
      expect(existsSync(join(dir, "accounts.db"))).toBe(false);
    } finally {
      await dropSchema(schema);
    }
  });
});
