import { describe, expect, it } from "vitest";
import { parseKeyring } from "../../../src/crypto/keyring.ts";
import { rotateSecrets } from "../../../src/crypto/rotate.ts";
import { createSealer, sealingAad } from "../../../src/crypto/sealer.ts";
import type { SealedBlob, StaleSecret, Store } from "../../../src/store/store.ts";
import { keyEntry } from "./keys.ts";

const oldKey = keyEntry("k2024");
const newKey = keyEntry("k2025");
const oldSealer = createSealer(parseKeyring(oldKey.entry));
const ring = parseKeyring(`${oldKey.entry},${newKey.entry}`);
const sealer = createSealer(ring);

/** The two store methods rotation uses, over an in-memory table, in id order like the real stores. */
class FakeStore implements Pick<Store, "listStaleSecrets" | "replaceSecret"> {
  rows = new Map<string, StaleSecret>();
  replaced = 0;
  /** Simulates a crash: replaceSecret throws once this many rows have been replaced. */
  failAfter = Infinity;
  /** Row ids whose compare-and-set always loses, as if another writer keeps changing them. */
  contended = new Set<string>();

  async listStaleSecrets(activeKeyId: string, limit: number): Promise<StaleSecret[]> {
    return [...this.rows.values()]
      .filter((row) => row.secrets.keyId !== activeKeyId)
      .sort((a, b) => a.id.localeCompare(b.id))
      .slice(0, limit)
      .map((row) => ({ ...row }));
  }

  async replaceSecret(ref: StaleSecret, next: SealedBlob): Promise<boolean> {
    if (this.replaced >= this.failAfter) throw new Error("simulated crash");
    const row = this.rows.get(ref.id);
    if (!row || this.contended.has(ref.id) || row.secrets.keyId !== ref.secrets.keyId) return false;
    row.secrets = next;
    this.replaced++;
    return true;
  }
}

function seed(count: number): FakeStore {
  const store = new FakeStore();
  for (let i = 0; i < count; i++) {
    const id = `acc_${String(i).padStart(4, "0")}`;
    const workspaceId = i % 2 === 0 ? "ws_A" : "ws_B";
    const secrets = oldSealer.seal(Buffer.from(`pw-${i}`), sealingAad(workspaceId, id));
    store.rows.set(id, { table: i % 3 === 0 ? "intents" : "accounts", id, workspaceId, secrets });
  }
  return store;
}

function expectAllUnderNewKey(store: FakeStore): void {
  for (const row of store.rows.values()) {
    expect(row.secrets.keyId).toBe("k2025");
    const password = sealer.open(row.secrets, sealingAad(row.workspaceId, row.id)).toString();
    expect(password).toBe(`pw-${Number(row.id.slice(4))}`);
  }
}

const run = (store: FakeStore, more: Partial<Parameters<typeof rotateSecrets>[0]> = {}) =>
  rotateSecrets({ store, sealer, activeKeyId: "k2025", batchSize: 4, ...more });

describe("rotateSecrets", () => {
  it("reseals every stale row under the active key, and a second run has nothing to do", async () => {
    const store = seed(10);
    const progress: number[] = [];
    expect(await run(store, { onProgress: (n) => progress.push(n) })).toEqual({ resealed: 10, skipped: 0, failed: 0 });
    expect(progress).toEqual([4, 8, 10]);
    expectAllUnderNewKey(store);

    expect(await run(store)).toEqual({ resealed: 0, skipped: 0, failed: 0 });
  });

  it("finishes the job when re-run after an interruption", async () => {
    const store = seed(10);
    store.failAfter = 6;
    await expect(run(store)).rejects.toThrow("simulated crash");
    expect([...store.rows.values()].filter((r) => r.secrets.keyId === "k2025")).toHaveLength(6);

    store.failAfter = Infinity;
    expect(await run(store)).toEqual({ resealed: 4, skipped: 0, failed: 0 });
    expectAllUnderNewKey(store);
  });

  it("counts a lost compare-and-set as skipped, and does not loop on it", async () => {
    const store = seed(10);
    // The first page is all contended: the rest must still be reached.
    store.contended = new Set(["acc_0000", "acc_0001", "acc_0002", "acc_0003"]);
    expect(await run(store)).toEqual({ resealed: 6, skipped: 4, failed: 0 });
  });

  it("reports rows it cannot open and carries on with the others", async () => {
    const store = seed(6);
    const stray = createSealer(parseKeyring(keyEntry("k2023").entry));
    store.rows.get("acc_0000")!.secrets = stray.seal(Buffer.from("x"), sealingAad("ws_A", "acc_0000"));
    // Moved to another row: the AAD no longer matches.
    store.rows.get("acc_0001")!.secrets = { ...store.rows.get("acc_0002")!.secrets };

    const failures: string[] = [];
    const result = await run(store, { batchSize: 2, onFailure: (row, e) => failures.push(`${row.id}:${e.reason}`) });
    expect(result).toEqual({ resealed: 4, skipped: 0, failed: 2 });
    expect(failures).toEqual(["acc_0000:unknown_key", "acc_0001:tampered_or_wrong_context"]);
  });

  it("refuses a sealer whose active key is not the requested one", async () => {
    await expect(rotateSecrets({ store: seed(1), sealer: oldSealer, activeKeyId: "k2025" })).rejects.toThrow(/seals under "k2024"/);
  });
});
