import { hash, randomBytes, timingSafeEqual } from "node:crypto";
import { newId } from "../ids.ts";

/**
 * API keys look like `ppa_<ULID>_<secret>`: the ULID is the key's public id (stored as
 * "key_<ULID>"), the secret is 32 random bytes in base64url. Only SHA-256(secret) is
 * stored: the secret has 256 bits of entropy, so a slow password hash would add nothing.
 */
const KEY_FORMAT = /^ppa_([0-9A-HJKMNP-TV-Z]{26})_([A-Za-z0-9_-]{43})$/;

export interface ParsedApiKey {
  keyId: string;
  secret: string;
}

export function parseApiKey(token: string): ParsedApiKey | undefined {
  const m = KEY_FORMAT.exec(token);
  return m ? { keyId: `key_${m[1]}`, secret: m[2]! } : undefined;
}

export function hashSecret(secret: string): Buffer {
  // The one-shot form: no Hash object per call (the secret is checked on every call).
  return hash("sha256", secret, "buffer");
}

export function secretMatches(secret: string, storedHash: Buffer): boolean {
  const hash = hashSecret(secret);
  return hash.length === storedHash.length && timingSafeEqual(hash, storedHash);
}

export function generateApiKey(): { token: string; keyId: string; secretHash: Buffer } {
  const id = newId();
  const secret = randomBytes(32).toString("base64url");
  return { token: `ppa_${id}_${secret}`, keyId: `key_${id}`, secretHash: hashSecret(secret) };
}
