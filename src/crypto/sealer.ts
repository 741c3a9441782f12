import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import type { SealedBlob } from "../store/store.ts";
import { KEY_ID, type Keyring } from "./keyring.ts";

/**
 * AES-256-GCM sealing of credential blobs.
 *
 * Envelope: version (1 byte) | keyId length (1 byte) | keyId (utf8) | nonce (12) | tag (16) | ciphertext.
 * The AAD is the caller's context string (see sealingAad), so a blob copied to another row
 * or workspace fails to open. Nonces are random: with 96 bits that is safe for far more
 * seals per key than this service will do before a rotation.
 */
export interface Sealer {
  readonly activeKeyId: string;
  seal(plaintext: Uint8Array, aad: string): SealedBlob;
  open(blob: SealedBlob, aad: string): Buffer;
}

export type SealErrorReason = "unknown_key" | "tampered_or_wrong_context" | "malformed";

/** A blob that cannot be opened. The message names key ids and sizes only, never plaintext or keys. */
export class SealError extends Error {
  readonly reason: SealErrorReason;

  constructor(reason: SealErrorReason, message: string) {
    super(message);
    this.name = "SealError";
    this.reason = reason;
  }
}

const VERSION = 1;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const ALGORITHM = "aes-256-gcm";

/** The AAD for a record's secrets: binds a blob to its workspace and row (account or intent id). */
export function sealingAad(workspaceId: string, recordId: string): string {
  // '|' is the separator, so it must not appear inside an id or two contexts could collide.
  if (workspaceId.includes("|") || recordId.includes("|")) throw new Error("sealingAad: ids must not contain '|'");
  return `postpress-accounts/v1|${workspaceId}|${recordId}`;
}

export function createSealer(keyring: Keyring): Sealer {
  const seal = (plaintext: Uint8Array, aad: string): SealedBlob => {
    const keyId = keyring.activeKeyId;
    const key = keyring.key(keyId)!; // the keyring guarantees its active key exists
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv(ALGORITHM, key, nonce, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(aad, "utf8"));
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    const id = Buffer.from(keyId, "utf8");
    const envelope = Buffer.concat([Buffer.from([VERSION, id.length]), id, nonce, cipher.getAuthTag(), ciphertext]);
    return { keyId, envelope };
  };

  const open = (blob: SealedBlob, aad: string): Buffer => {
    const { keyId, nonce, tag, ciphertext } = parseEnvelope(blob);
    const key = keyring.key(keyId);
    if (!key) {
      throw new SealError("unknown_key", `no sealing key "${keyId}" in this process's keyring: is it still listed in SEALING_KEYS?`);
    }
    const decipher = createDecipheriv(ALGORITHM, key, nonce, { authTagLength: TAG_BYTES });
    decipher.setAuthTag(tag);
    decipher.setAAD(Buffer.from(aad, "utf8"));
    try {
      return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
    } catch {
      throw new SealError(
        "tampered_or_wrong_context",
        `sealed blob under key "${keyId}" failed authentication: it was altered, or belongs to another record or workspace`,
      );
    }
  };

  return {
    activeKeyId: keyring.activeKeyId,
    seal,
    open,
  };
}

function parseEnvelope(blob: SealedBlob) {
  const env = blob.envelope;
  if (env.length < 2) throw malformed(`envelope is truncated (${env.length} bytes)`);
  if (env[0] !== VERSION) throw malformed(`unsupported envelope version ${env[0]}`);
  const idEnd = 2 + env[1]!;
  const tagEnd = idEnd + NONCE_BYTES + TAG_BYTES;
  if (env.length < tagEnd) throw malformed(`envelope is truncated (${env.length} bytes)`);
  const keyId = env.toString("utf8", 2, idEnd);
  // Checked before it appears in any message: the bytes are untrusted.
  if (!KEY_ID.test(keyId)) throw malformed("envelope holds an invalid key id");
  if (keyId !== blob.keyId) throw malformed(`envelope key id "${keyId}" does not match the record's key id "${blob.keyId}"`);
  return {
    keyId,
    nonce: env.subarray(idEnd, idEnd + NONCE_BYTES),
    tag: env.subarray(idEnd + NONCE_BYTES, tagEnd),
    ciphertext: env.subarray(tagEnd),
  };
}

function malformed(detail: string): SealError {
  return new SealError("malformed", `cannot open sealed blob: ${detail}`);
}
