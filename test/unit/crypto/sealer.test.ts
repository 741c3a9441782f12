import { describe, expect, it } from "vitest";
import { parseKeyring } from "../../../src/crypto/keyring.ts";
import { createSealer, SealError, sealingAad, type SealErrorReason } from "../../../src/crypto/sealer.ts";
import type { SealedBlob } from "../../../src/store/store.ts";
import { keyEntry } from "./keys.ts";

const k2024 = keyEntry("k2024");
const k2025 = keyEntry("k2025");
const sealer = createSealer(parseKeyring(k2024.entry));
const aad = sealingAad("ws_A", "acc_1");
const secret = Buffer.from("imap-password-123");

// Envelope offsets for the id "k2024": version, id length, 5 id bytes, then nonce and tag.
const NONCE_AT = 2 + 5;
const TAG_AT = NONCE_AT + 12;
const CIPHERTEXT_AT = TAG_AT + 16;

function flipByte(blob: SealedBlob, at: number): SealedBlob {
  const envelope = Buffer.from(blob.envelope);
  envelope[at] = envelope[at]! ^ 0x01;
  return { keyId: blob.keyId, envelope };
}

function openError(open: () => unknown): SealError {
  try {
    open();
  } catch (e) {
    expect(e).toBeInstanceOf(SealError);
    return e as SealError;
  }
  throw new Error("expected open to fail");
}

function expectFails(open: () => unknown, reason: SealErrorReason): void {
  const error = openError(open);
  expect(error.reason).toBe(reason);
  expect(error.message).not.toContain(secret.toString());
  expect(error.message).not.toContain(k2024.material);
}

describe("sealer", () => {
  it("round-trips bytes and records the active key id", () => {
    const blob = sealer.seal(secret, aad);
    expect(blob.keyId).toBe("k2024");
    expect(blob.envelope.includes(secret)).toBe(false);
    expect(sealer.open(blob, aad)).toEqual(secret);
  });

  it("round-trips an empty plaintext", () => {
    expect(sealer.open(sealer.seal(new Uint8Array(0), aad), aad)).toEqual(Buffer.alloc(0));
  });

  it("lays the envelope out as version | id length | id | nonce | tag | ciphertext", () => {
    const { envelope } = sealer.seal(secret, aad);
    expect(envelope[0]).toBe(1);
    expect(envelope[1]).toBe(5);
    expect(envelope.toString("utf8", 2, 7)).toBe("k2024");
    expect(envelope.length).toBe(CIPHERTEXT_AT + secret.length);
  });

  it("uses a fresh nonce for every seal", () => {
    const a = sealer.seal(secret, aad);
    const b = sealer.seal(secret, aad);
    expect(a.envelope.equals(b.envelope)).toBe(false);
    expect(a.envelope.subarray(NONCE_AT, TAG_AT).equals(b.envelope.subarray(NONCE_AT, TAG_AT))).toBe(false);
  });

  it("rejects a tampered ciphertext, tag or nonce", () => {
    const blob = sealer.seal(secret, aad);
    for (const at of [CIPHERTEXT_AT, TAG_AT, NONCE_AT]) {
      expectFails(() => sealer.open(flipByte(blob, at), aad), "tampered_or_wrong_context");
    }
  });

  it("rejects a blob opened for another account or another workspace", () => {
    const blob = sealer.seal(secret, aad);
    expectFails(() => sealer.open(blob, sealingAad("ws_A", "acc_2")), "tampered_or_wrong_context");
    expectFails(() => sealer.open(blob, sealingAad("ws_B", "acc_1")), "tampered_or_wrong_context");
  });

  it("rejects ids that would make the AAD ambiguous", () => {
    expect(() => sealingAad("ws_A|acc_1", "x")).toThrow(/must not contain/);
  });

  it("rejects a blob under a key this process does not hold", () => {
    const other = createSealer(parseKeyring(keyEntry("k2023").entry));
    const error = openError(() => sealer.open(other.seal(secret, aad), aad));
    expect(error.reason).toBe("unknown_key");
    expect(error.message).toContain('"k2023"');
  });

  it("rejects malformed envelopes", () => {
    const blob = sealer.seal(secret, aad);
    const withEnvelope = (envelope: Buffer): SealedBlob => ({ keyId: blob.keyId, envelope });
    const wrongVersion = Buffer.from(blob.envelope);
    wrongVersion[0] = 2;

    expectFails(() => sealer.open(withEnvelope(Buffer.alloc(0)), aad), "malformed");
    expectFails(() => sealer.open(withEnvelope(blob.envelope.subarray(0, CIPHERTEXT_AT - 1)), aad), "malformed");
    expectFails(() => sealer.open(withEnvelope(wrongVersion), aad), "malformed");
    // The key id column and the envelope disagree.
    expectFails(() => sealer.open({ keyId: "k2025", envelope: blob.envelope }, aad), "malformed");
  });

  it("still opens old-key data once a new active key is added", () => {
    const old = sealer.seal(secret, aad);
    const rotated = createSealer(parseKeyring(`${k2024.entry},${k2025.entry}`));
    expect(rotated.activeKeyId).toBe("k2025");
    expect(rotated.open(old, aad)).toEqual(secret);
    const fresh = rotated.seal(secret, aad);
    expect(fresh.keyId).toBe("k2025");
    expect(rotated.open(fresh, aad)).toEqual(secret);
  });

  it("holds each key as a ready KeyObject, so sealing derives nothing per call", () => {
    // Speed itself is the benchmarks' business; what keeps it is that parsing made the keys once.
    const keyring = parseKeyring(`${k2024.entry},${k2025.entry}`);
    for (const id of keyring.keyIds) expect(keyring.key(id)).toMatchObject({ type: "secret", symmetricKeySize: 32 });
  });
});
