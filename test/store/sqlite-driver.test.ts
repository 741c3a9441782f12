import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { SqlDriver } from "../../src/store/sql.ts";
import { MAX_BATCH, sqliteDriver } from "../../src/store/sqlite-driver.ts";

/** The group commit of the SQLite driver: what a batch of transactions promises each of them. */
describe("SQLite driver: group commit, taking turns with the event loop", () => {
  let dir: string;
  let path: string;
  let driver: SqlDriver;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "sqlite-driver-"));
    path = join(dir, "db.sqlite");
    driver = sqliteDriver(new DatabaseSync(path));
    await driver.exec(`
      PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON;
      CREATE TABLE parents (id INTEGER PRIMARY KEY);
      CREATE TABLE items (id INTEGER PRIMARY KEY, parent INTEGER REFERENCES parents (id) DEFERRABLE INITIALLY DEFERRED);
    `);
  });

  afterEach(async () => {
    await driver.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** What another connection (another process) sees: only committed rows. */
  const committedIds = () => {
    const other = new DatabaseSync(path, { readOnly: true });
    try {
      return other.prepare("SELECT id FROM items ORDER BY id").all().map((row) => Number(row.id));
    } finally {
      other.close();
    }
  };

  const insertItem = (id: number, parent: number | null = null) =>
    driver.transaction(async (tx) => {
      await tx.query("INSERT INTO items (id, parent) VALUES ($1, $2)", [id, parent]);
      return id;
    });

  it("queryValues answers rows as values in the statement's column order; the same statement keyed, through query", async () => {
    await insertItem(1);
    const sql = "SELECT parent, id FROM items WHERE id = $1";
    expect(await driver.queryValues(sql, [1])).toEqual([[null, 1]]);
    expect(await driver.query(sql, [1])).toEqual([{ parent: null, id: 1 }]);
    expect(await driver.queryValues(sql, [2])).toEqual([]);
  });

  it("queryValues waits for the transactions queued before it: it never sees a batch's uncommitted writes", async () => {
    const written = insertItem(1);
    const read = driver.queryValues("SELECT id FROM items");
    await written;
    expect(await read).toEqual([[1]]);
  });

  it("a transaction that throws undoes only its own writes; the others of its batch commit", async () => {
    const failing = driver.transaction(async (tx) => {
      await tx.query("INSERT INTO items (id) VALUES (2)");
      throw new Error("changed my mind");
    });
    const results = await Promise.allSettled([insertItem(1), failing, insertItem(3)]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect((results[1] as PromiseRejectedResult).reason).toEqual(new Error("changed my mind"));
    expect(committedIds()).toEqual([1, 3]);
  });

  it("answers a transaction only once its batch is committed", async () => {
    const seenAtAnswer: number[][] = [];
    await Promise.all([1, 2, 3].map((id) => insertItem(id).then(() => seenAtAnswer.push(committedIds()))));
    expect(seenAtAnswer).toEqual([[1, 2, 3], [1, 2, 3], [1, 2, 3]]);
  });

  it("fails every transaction of a batch whose COMMIT fails, writes none, and serves again after", async () => {
    // A deferred foreign key is only checked at COMMIT: the one bad row makes the whole COMMIT fail.
    const results = await Promise.allSettled([insertItem(1), insertItem(2, 99), insertItem(3)]);
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected", "rejected"]);
    for (const r of results) expect(String((r as PromiseRejectedResult).reason)).toMatch(/FOREIGN KEY constraint failed/);
    expect(committedIds()).toEqual([]);
    await expect(insertItem(4)).resolves.toBe(4);
    expect(committedIds()).toEqual([4]);
  });

  it("sees earlier writes of its own batch, as it would after their separate commits", async () => {
    const [, count] = await Promise.all([
      insertItem(1),
      driver.transaction(async (tx) => Number((await tx.query("SELECT count(*) AS n FROM items"))[0]!.n)),
    ]);
    expect(count).toBe(1);
  });

  it("lets the event loop run between batches of a burst", async () => {
    const total = MAX_BATCH * 3;
    let answered = 0;
    let answeredWhenLoopRan: number | undefined;
    const all = Array.from({ length: total }, (_, i) =>
      insertItem(i + 1).then(() => {
        answered++;
        if (answered === 1) setImmediate(() => (answeredWhenLoopRan = answered));
      }),
    );
    await Promise.all(all);
    expect(committedIds()).toHaveLength(total);
    expect(answeredWhenLoopRan).toBeGreaterThanOrEqual(MAX_BATCH);
    expect(answeredWhenLoopRan).toBeLessThan(total);
  });

  it("lets the event loop run during a long queue of reads", async () => {
    const total = 20_000;
    let answered = 0;
    let answeredWhenLoopRan: number | undefined;
    setImmediate(() => (answeredWhenLoopRan = answered));
    await Promise.all(Array.from({ length: total }, () => driver.query("SELECT 1").then(() => answered++)));
    expect(answeredWhenLoopRan).toBeLessThan(total);
  });
});
