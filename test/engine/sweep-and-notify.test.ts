/**
 * The engine's background duties against real stores: the sweep closes abandoned intents and
 * erases their sealed request, on several replicas at once without double work; intent writes
 * on one PostgreSQL replica reach another's change feed (LISTEN/NOTIFY).
 */
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { flowStateToJson } from "../../src/domain/accounts/engine/core/flow-state.ts";
import { IntentEngine } from "../../src/domain/accounts/engine/shell/engine.ts";
import { sweepOnce } from "../../src/domain/accounts/engine/shell/sweeper.ts";
import { createConnectorRegistry } from "../../src/domain/connectors/registry.ts";
import { openPostgresStore } from "../../src/store/postgres.ts";
import { openSqliteStore } from "../../src/store/sqlite.ts";
import type { IntentRecord, Store } from "../../src/store/store.ts";
import { dropSchema, PG_URL, uniqueSchema } from "../support/pg.ts";
import { testSealer } from "../support/server.ts";
import { intent, minutesFrom, sealed } from "../store/fixtures.ts";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createWorkspace } from "../../src/auth/workspaces.ts";

const log = pino({ level: "silent" });
const interactiveState = (key: string) => flowStateToJson({ flow: "interactive", variant: "whatsapp", key, version: 1, seq: 1, checkpoint: { type: "QR_CODE", qrCode: "2@x" } });

function engineOn(store: Store): IntentEngine {
  return new IntentEngine({ store, sealer: testSealer(), connectors: createConnectorRegistry([]), rules: { ttlMs: 60_000, lateOutcomeGraceMs: 30_000 }, now: () => new Date(), log });
}

async function openExpired(store: Store, workspaceId: string, count: number): Promise<IntentRecord[]> {
  const past = minutesFrom(new Date(), -30);
  const opened: IntentRecord[] = [];
  for (let i = 0; i < count; i++) {
    const record = intent(workspaceId, past, { secrets: sealed("k1", "the request, password included"), state: i % 2 ? null : interactiveState(`int_${i}`) });
    const result = await store.openIntent(record, past);
    if (!("opened" in result)) throw new Error("not opened");
    opened.push(result.opened);
  }
  return opened;
}

describe("the sweep of abandoned intents", () => {
  it("on SQLite: closes expired intents EXPIRED, erases their sealed request, leaves live ones alone", async () => {
    const store = await openSqliteStore({ path: join(mkdtempSync(join(tmpdir(), "ppa-sweep-")), "accounts.db") });
    const ws = (await createWorkspace(store, "sweep")).id;
    const expired = await openExpired(store, ws, 5);
    const live = intent(ws, new Date(), { secrets: sealed("k1") });
    await store.openIntent(live, new Date());
    const swept = await sweepOnce({ store, engine: engineOn(store), graceMs: 0, now: () => new Date(), log });
    expect(swept).toBe(5);
    for (const e of expired) expect(await store.getIntent(ws, e.id)).toMatchObject({ status: "EXPIRED", errorKind: "intent_expired", secrets: null });
    expect(await store.getIntent(ws, live.id)).toMatchObject({ status: "OPEN", secrets: { keyId: "k1" } });
    // Within the grace, nothing is swept: the replicas tracking an intent expire it themselves first.
    const recent = intent(ws, minutesFrom(new Date(), -11), { secrets: sealed("k1") });
    await store.openIntent(recent, minutesFrom(new Date(), -11));
    expect(await sweepOnce({ store, engine: engineOn(store), graceMs: 5 * 60_000, now: () => new Date(), log })).toBe(0);
    await store.close();
  });

  describe("on PostgreSQL, three replicas at once", () => {
    const schema = uniqueSchema("sweep");
    const stores: Store[] = [];
    beforeAll(async () => {
      for (let i = 0; i < 3; i++) stores.push(await openPostgresStore({ connectionString: PG_URL, schema }));
    });
    afterAll(async () => {
      await Promise.all(stores.map((s) => s.close()));
      await dropSchema(schema);
    });

    it("close every expired intent exactly once between them (FOR UPDATE SKIP LOCKED)", async () => {
      const ws = (await createWorkspace(stores[0]!, "sweep")).id;
      const expired = await openExpired(stores[0]!, ws, 450);
      const counts = await Promise.all(stores.map((store) => sweepOnce({ store, engine: engineOn(store), graceMs: 0, now: () => new Date(), log })));
      expect(counts.reduce((a, b) => a + b, 0)).toBe(450);
      const rows = await Promise.all(expired.map((e) => stores[1]!.getIntent(ws, e.id)));
      expect(rows.every((r) => r?.status === "EXPIRED" && r.secrets === null)).toBe(true);
    });
  });
});

describe("intent changes across PostgreSQL replicas (LISTEN/NOTIFY)", () => {
  const schema = uniqueSchema("notify");
  let a: Store;
  let b: Store;
  beforeAll(async () => {
    a = await openPostgresStore({ connectionString: PG_URL, schema });
    b = await openPostgresStore({ connectionString: PG_URL, schema });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await dropSchema(schema);
  });

  it("a write of an interactive intent on B reaches A's subscribers; a one-shot intent's does not", async () => {
    const heard: string[] = [];
    const off = a.changes.subscribe({ changed: (id) => heard.push(id), resync: () => {} });
    const ws = (await createWorkspace(b, "notify")).id;
    // The LISTEN connection opens with the first subscriber: wait until it hears a probe.
    const probe = intent(ws, new Date(), { state: interactiveState("probe") });
    await b.openIntent(probe, new Date());
    for (let i = 0; i < 50 && !heard.includes(probe.id); i++) {
      await b.updateOpenIntent(probe.id, { updatedAt: new Date() });
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(heard).toContain(probe.id);

    const oneShot = intent(ws, new Date(), { state: flowStateToJson({ flow: "one_shot" }) });
    await b.openIntent(oneShot, new Date());
    const watched = intent(ws, new Date(), { state: interactiveState("w") });
    await b.openIntent(watched, new Date());
    await b.updateOpenIntent(watched.id, { status: "CHECKPOINT", updatedAt: new Date() });
    await expect.poll(() => heard.filter((id) => id === watched.id).length, { timeout: 5_000 }).toBe(2);
    expect(heard).not.toContain(oneShot.id);
    off();
  });
});
