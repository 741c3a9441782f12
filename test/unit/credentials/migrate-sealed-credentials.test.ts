import { fromJson, toBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { ConnectAccountRequestSchema } from "../../../gen/postpress/accounts/v1/account_service_pb.js";
import { parseKeyring } from "../../../src/crypto/keyring.ts";
import { createSealer, sealingAad } from "../../../src/crypto/sealer.ts";
import { migrateSealedCredentials, type MigrateResult } from "../../../src/domain/credentials/migrate-sealed-credentials.ts";
import { isDomainForm, openCredentials } from "../../../src/domain/credentials/sealed-credentials.ts";
import type { SealedBlob, SealedCredentialsTable, StaleSecret, Store } from "../../../src/store/store.ts";
import { plantedSecrets, VARIANT_REQUESTS } from "../../support/connect-requests.ts";
import { keyEntry } from "../crypto/keys.ts";

const sealer = createSealer(parseKeyring(keyEntry("k1").entry));
const stranger = createSealer(parseKeyring(keyEntry("k0").entry));
const WS = "ws_1";

/** The two store methods the migration uses, over in-memory tables, in id order like the real stores. */
class FakeStore implements Pick<Store, "listSealedCredentials" | "replaceSecret"> {
  rows = new Map<string, StaleSecret>();
  /** Called between a row's listing and its replacement: a concurrent writer. */
  beforeReplace?: (ref: StaleSecret) => void;

  async listSealedCredentials(table: SealedCredentialsTable, afterId: string, limit: number): Promise<StaleSecret[]> {
    return [...this.rows.values()]
      .filter((r) => r.table === table && r.id > afterId)
      .sort((a, b) => a.id.localeCompare(b.id))
      .slice(0, limit)
      .map((r) => ({ ...r }));
  }

  async replaceSecret(ref: StaleSecret, next: SealedBlob): Promise<boolean> {
    this.beforeReplace?.(ref);
    const row = this.rows.get(ref.id);
    if (!row || !row.secrets.envelope.equals(ref.secrets.envelope)) return false;
    row.secrets = next;
    return true;
  }
}

/** A row as main sealed it: the request's binary form. */
function legacyRow(table: SealedCredentialsTable, id: string, variant: string, by = sealer): StaleSecret {
  const plaintext = toBinary(ConnectAccountRequestSchema, fromJson(ConnectAccountRequestSchema, VARIANT_REQUESTS[variant]!));
  return { table, id, workspaceId: WS, secrets: by.seal(plaintext, sealingAad(WS, id)) };
}

function storeWith(...rows: StaleSecret[]): FakeStore {
  const store = new FakeStore();
  for (const row of rows) store.rows.set(row.id, row);
  return store;
}

const domainForm = (row: StaleSecret) => isDomainForm(sealer.open(row.secrets, sealingAad(row.workspaceId, row.id)));

describe("migrateSealedCredentials", () => {
  it("rewrites legacy rows of both tables a page at a time, and a second run finds them all current", async () => {
    const variants = Object.keys(VARIANT_REQUESTS);
    const store = storeWith(...variants.map((v, i) => legacyRow(i % 3 === 0 ? "intents" : "accounts", `id_${String(i).padStart(2, "0")}`, v)));
    const before = new Map([...store.rows.values()].map((r) => [r.id, openCredentials(sealer, r.secrets, WS, r.id)]));
    const pages: MigrateResult[] = [];
    expect(await migrateSealedCredentials({ store, sealer, pageSize: 2, onPage: (p) => void pages.push(p) })).toEqual({ migrated: variants.length, current: 0, skipped: 0, failed: 0 });
    expect(pages.length).toBe(Math.ceil(8 / 2) + Math.ceil(4 / 2));
    for (const row of store.rows.values()) {
      expect(domainForm(row)).toBe(true);
      expect(openCredentials(sealer, row.secrets, WS, row.id)).toEqual(before.get(row.id));
    }
    expect(await migrateSealedCredentials({ store, sealer })).toEqual({ migrated: 0, current: variants.length, skipped: 0, failed: 0 });
  });

  it("loses the compare-and-set to a concurrent writer and keeps what that writer wrote", async () => {
    const store = storeWith(legacyRow("accounts", "acc_1", "mail"), legacyRow("accounts", "acc_2", "outlook"));
    const concurrent = legacyRow("accounts", "acc_1", "googleOauth").secrets;
    store.beforeReplace = (ref) => {
      if (ref.id === "acc_1") store.rows.get("acc_1")!.secrets = concurrent;
    };
    expect(await migrateSealedCredentials({ store, sealer })).toEqual({ migrated: 1, current: 0, skipped: 1, failed: 0 });
    expect(store.rows.get("acc_1")!.secrets).toBe(concurrent);
    expect(domainForm(store.rows.get("acc_2")!)).toBe(true);
  });

  it("reports a row it cannot open, naming no value, and migrates the rest", async () => {
    const store = storeWith(legacyRow("accounts", "acc_1", "linkedinBasic", stranger), legacyRow("accounts", "acc_2", "twitter"));
    const failures: string[] = [];
    const result = await migrateSealedCredentials({ store, sealer, onFailure: (row, error) => failures.push(`${row.table} ${row.id} ${error.message}`) });
    expect(result).toEqual({ migrated: 1, current: 0, skipped: 0, failed: 1 });
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatch(/^accounts acc_1 no sealing key "k0"/);
    for (const secret of plantedSecrets()) expect(failures[0]).not.toContain(secret);
  });

  it("reports an undecodable row without the parser's text (which would quote the secret)", async () => {
    const id = "acc_1";
    // Field 1000 holding JSON that does not parse, around a planted secret.
    const json = Buffer.from('{"v":1,"format":"x","data":"planted-session-material"');
    const request = toBinary(ConnectAccountRequestSchema, fromJson(ConnectAccountRequestSchema, VARIANT_REQUESTS.whatsapp!));
    const payload = Buffer.concat([request, Buffer.from([0xc2, 0x3e, json.length]), json]); // tag of field 1000, length-delimited
    const store = storeWith({ table: "accounts", id, workspaceId: WS, secrets: sealer.seal(payload, sealingAad(WS, id)) });
    const failures: string[] = [];
    expect((await migrateSealedCredentials({ store, sealer, onFailure: (_row, error) => failures.push(error.message) })).failed).toBe(1);
    expect(failures[0]).toMatch(/cannot be decoded/);
    expect(failures[0]).not.toContain("planted");
  });
});
