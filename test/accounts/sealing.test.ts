import { randomBytes } from "node:crypto";
import { readFileSync, existsSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AccountService } from "../../gen/postpress/accounts/v1/account_service_pb.js";
import { parseKeyring } from "../../src/crypto/keyring.ts";
import { rotateSecrets } from "../../src/crypto/rotate.ts";
import { createSealer, SealError, sealingAad, type Sealer } from "../../src/crypto/sealer.ts";
import type { SealedBlob } from "../../src/store/store.ts";
import type { Row } from "../../src/store/sql.ts";
import { callRpc } from "../support/clients.ts";
import { BACKENDS, expectOk, linkedinRequest, mailRequest, secretsOf, startHarness, twitterRequest, uniqueLogin, type ConnectRequest, type Harness } from "./helpers.ts";
import { openAccountSecrets } from "../../src/domain/accounts/account-secrets.ts";

const { connectAccount, deleteAccount } = AccountService.method;

function blobOf(row: Row): SealedBlob {
  return { keyId: String(row.secrets_key_id), envelope: Buffer.from(row.secrets_envelope as Uint8Array) };
}

/** Where the raw bytes of the database can hide a secret: the sqlite files, or every column of every row as PostgreSQL prints it. */
async function rawTexts(h: Harness): Promise<Buffer[]> {
  if (h.kind === "sqlite") {
    return [h.sqlitePath, `${h.sqlitePath}-wal`].filter((p) => existsSync(p)).map((p) => readFileSync(p));
  }
  const texts = [
    ...(await h.raw.query("SELECT a::text AS t FROM accounts a")),
    ...(await h.raw.query("SELECT i::text AS t FROM intents i")),
    ...(await h.raw.query("SELECT encode(secrets_envelope, 'escape') AS t FROM accounts WHERE secrets_envelope IS NOT NULL")),
    ...(await h.raw.query("SELECT encode(secrets_envelope, 'hex') AS t FROM accounts WHERE secrets_envelope IS NOT NULL")),
    ...(await h.raw.query("SELECT options::text AS t FROM accounts")),
  ];
  return texts.map((r) => Buffer.from(String(r.t), "utf8"));
}

function containsAnywhere(haystacks: Buffer[], needle: string): boolean {
  const forms = [Buffer.from(needle, "utf8"), Buffer.from(Buffer.from(needle, "utf8").toString("hex"), "utf8")];
  return haystacks.some((h) => forms.some((f) => h.includes(f)));
}

const fixedKey = () => randomBytes(32).toString("base64");

describe.each(BACKENDS)("sealed secrets on %s", (kind) => {
  let h: Harness;
  const key1 = fixedKey();
  const key2 = fixedKey();
  const k1Sealer = createSealer(parseKeyring(`k1:${key1}`));
  const requests: { request: ConnectRequest; accountId: string }[] = [];

  beforeAll(async () => {
    h = await startHarness(kind, { sealer: k1Sealer });
    for (const request of [linkedinRequest(uniqueLogin("seal")), mailRequest(`${uniqueLogin("seal")}@example.org`), twitterRequest(uniqueLogin("seal"))]) {
      const r = await callRpc(h.server, "grpc", connectAccount, request, { apiKey: h.server.apiKey });
      requests.push({ request, accountId: expectOk(r).accountId });
    }
  });
  afterAll(() => h?.close());

  const rowOf = async (accountId: string) => (await h.raw.query("SELECT * FROM accounts WHERE id = $1", [accountId]))[0]!;

  it("keeps no secret of any request in the database's bytes", async () => {
    const haystacks = await rawTexts(h);
    for (const { request } of requests) {
      for (const s of secretsOf(request)) expect(containsAnywhere(haystacks, s), "a secret is stored in clear").toBe(false);
    }
    // Positive control: non-secret values of the same requests are there, so the search reads the real data.
    const linkedin = requests[0]!.request.variant!.value as { username: string; userAgent: string };
    expect(containsAnywhere(haystacks, linkedin.userAgent)).toBe(true);
    expect(containsAnywhere(haystacks, `li-${linkedin.username}`)).toBe(true);
  });

  it("opens each stored blob under its own workspace and account, and under no other", async () => {
    for (const [i, { request, accountId }] of requests.entries()) {
      const row = await rowOf(accountId);
      const blob = blobOf(row);
      expect(blob.keyId).toBe("k1");
      const workspaceId = String(row.workspace_id);
      const opened = openAccountSecrets(h.server.sealer, blob, workspaceId, accountId).request;
      // The sealed request holds the secrets the caller sent.
      expect(JSON.stringify(opened.variant.value, (_k, v: unknown) => (typeof v === "bigint" ? String(v) : v))).toContain(secretsOf(request)[0]!);

      const otherAccount = requests[(i + 1) % requests.length]!.accountId;
      for (const aad of [sealingAad(workspaceId, otherAccount), sealingAad("ws_01K0OTHERWORKSPACE00000000", accountId)]) {
        let error: unknown;
        try {
          h.server.sealer.open(blob, aad);
        } catch (e) {
          error = e;
        }
        expect(error).toBeInstanceOf(SealError);
        expect((error as SealError).reason).toBe("tampered_or_wrong_context");
      }
    }
  });

  it("rotates every blob to a new key against the real store; both keys open blobs during the rotation", async () => {
    // A deleted account has no secrets left: rotation must leave it alone.
    const deleted = expectOk(await callRpc(h.server, "grpc", connectAccount, twitterRequest(uniqueLogin("gone")), { apiKey: h.server.apiKey })).accountId;
    expectOk(await callRpc(h.server, "connect-json", deleteAccount, { accountId: deleted }, { apiKey: h.server.apiKey }));

    const both: Sealer = createSealer(parseKeyring(`k1:${key1},k2:${key2}`));
    const k2Only: Sealer = createSealer(parseKeyring(`k2:${key2}`));
    expect(both.activeKeyId).toBe("k2");
    const plaintexts = new Map<string, Buffer>();
    for (const { accountId } of requests) {
      const row = await rowOf(accountId);
      const aad = sealingAad(String(row.workspace_id), accountId);
      // Data sealed only under the old key opens with the new keyring before anything was rewritten.
      plaintexts.set(accountId, both.open(blobOf(row), aad));
    }

    // Between batches (before each listing), look at what is stored: a mix of both keys, all of it opening.
    const keysSeen: string[][] = [];
    const observe = async () => {
      const keyIds: string[] = [];
      for (const { accountId } of requests) {
        const row = await rowOf(accountId);
        keyIds.push(String(row.secrets_key_id));
        expect(both.open(blobOf(row), sealingAad(String(row.workspace_id), accountId)).equals(plaintexts.get(accountId)!)).toBe(true);
      }
      keysSeen.push(keyIds.sort());
    };
    const result = await rotateSecrets({
      store: {
        listStaleSecrets: async (activeKeyId, limit) => {
          await observe();
          return h.server.store.listStaleSecrets(activeKeyId, limit);
        },
        replaceSecret: (ref, next) => h.server.store.replaceSecret(ref, next),
      },
      sealer: both,
      activeKeyId: "k2",
      batchSize: 1,
    });
    expect(result).toEqual({ resealed: requests.length, skipped: 0, failed: 0 });
    expect(keysSeen).toEqual([
      ["k1", "k1", "k1"],
      ["k1", "k1", "k2"],
      ["k1", "k2", "k2"],
      ["k2", "k2", "k2"],
    ]);

    for (const { accountId } of requests) {
      const row = await rowOf(accountId);
      const blob = blobOf(row);
      expect(blob.keyId).toBe("k2");
      const aad = sealingAad(String(row.workspace_id), accountId);
      expect(both.open(blob, aad).equals(plaintexts.get(accountId)!)).toBe(true);
      expect(k2Only.open(blob, aad).equals(plaintexts.get(accountId)!)).toBe(true);
      expect(() => k1Sealer.open(blob, aad)).toThrow(expect.objectContaining({ reason: "unknown_key" }));
    }
    const gone = await rowOf(deleted);
    expect([gone.secrets_key_id, gone.secrets_envelope]).toEqual([null, null]);
    // Nothing is left to do.
    expect(await rotateSecrets({ store: h.server.store, sealer: both, activeKeyId: "k2" })).toEqual({ resealed: 0, skipped: 0, failed: 0 });
    // And still no secret in the bytes after rewriting every blob.
    const haystacks = await rawTexts(h);
    for (const { request } of requests) for (const s of secretsOf(request)) expect(containsAnywhere(haystacks, s)).toBe(false);
  });
});
