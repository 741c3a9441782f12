import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openPostgresStore } from "../../src/store/postgres.ts";
import type { Store } from "../../src/store/store.ts";
import { dropSchema, PG_URL, uniqueSchema, withPg } from "../support/pg.ts";
import { account, intent, newId, workspace } from "../store/fixtures.ts";

const WRITES = 200;

/**
 * The stream's cursor under concurrent writers on PostgreSQL: a sequence value is taken at
 * INSERT but seen at COMMIT, so a cursor given at INSERT would let a reader pass an event
 * still being committed and never see it (the cursor is given after commit: event-numbering.ts). Two stores (two pools) connect 200
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

  it("an event that took its seq first but commits last still comes after the cursor a reader already holds", async () => {
    const ws = workspace();
    await stores[0]!.createWorkspace(ws);
    const insertEvent = (client: { query(sql: string, values: unknown[]): Promise<unknown> }, accountId: string) =>
      client.query(`INSERT INTO ${schema}.events (id, workspace_id, account_id, type, data, created_at) VALUES ($1, $2, $3, 'account.connected', '{}', now())`, [newId("evt"), ws.id, accountId]);
    await withPg(async (slow) => {
      await slow.query("BEGIN");
      await insertEvent(slow, "acc_first_seq"); // takes the lower seq, commits last
      await withPg((fast) => insertEvent(fast, "acc_second_seq"));
      const before = await stores[0]!.listEvents(ws.id, 0, 50);
      expect(before.map((e) => e.accountId)).toEqual(["acc_second_seq"]);
      await slow.query("COMMIT");
      const after = await stores[1]!.listEvents(ws.id, before[0]!.seq, 50);
      expect(after.map((e) => e.accountId)).toEqual(["acc_first_seq"]);
    });
  });
});
