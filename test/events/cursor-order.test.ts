import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openPostgresStore } from "../../src/store/postgres.ts";
import type { Store } from "../../src/store/store.ts";
import { dropSchema, PG_URL, uniqueSchema } from "../support/pg.ts";
import { account, intent, workspace } from "../store/fixtures.ts";

const WRITES = 200;

/**
 * The stream's cursor under concurrent writers on PostgreSQL: a sequence value is taken at
 * INSERT but seen at COMMIT, so without the outbox's per-workspace lock a reader could pass
 * an event still being committed and never see it. Two stores (two pools) connect 200
 * accounts, 16 at a time, while a reader pages after its cursor as fast as it can: it sees every one.
 */
describe("event cursor under concurrent writers (PostgreSQL)", () => {
  const schema = uniqueSchema("cursor");
  let stores: Store[];

  beforeAll(async () => {
    stores = [await openPostgresStore({ connectionString: PG_URL, schema }), await openPostgresStore({ connectionString: PG_URL, schema })];
  });
  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close()));
    await dropSchema(schema);
  });

  it("a reader following the cursor misses none of the events committed around it", async () => {
    const ws = workspace();
    await stores[0]!.createWorkspace(ws);
    let writing = true;
    const seen: string[] = [];
    const reader = (async () => {
      let cursor = 0;
      for (;;) {
        const done = !writing; // one last page after the writers finished
        const page = await stores[0]!.listEvents(ws.id, cursor, 50);
        for (const event of page) seen.push(event.accountId);
        cursor = page.at(-1)?.seq ?? cursor;
        if (done && page.length === 0) return;
      }
    })();
    const now = new Date();
    // 16 writers at a time, 8 per pool (within the pools' size, as a server's calls would be).
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async (_, worker) => {
        const store = stores[worker % 2]!;
        for (let i = next++; i < WRITES; i = next++) {
          const open = intent(ws.id, now, { identityKey: `user:${i}` });
          await store.openIntent(open, now);
          const result = await store.insertAccount(account(open, now), open.id, now);
          if (!("inserted" in result)) throw new Error("expected an insert");
        }
      }),
    );
    writing = false;
    await reader;
    expect(seen).toHaveLength(WRITES);
    expect(new Set(seen).size).toBe(WRITES);
  }, 120_000);
});
