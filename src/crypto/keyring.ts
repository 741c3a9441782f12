import { closeSync, fsyncSync, linkSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from "node:fs";
import { ensureDataDir } from "../data-dir.ts";
import { createSecretKey, randomBytes, type KeyObject } from "node:crypto";
import { join } from "node:path";

/**
 * The sealing keys this process holds: several ids, one active (used for new seals), the
 * others kept so data sealed before a rotation still opens.
 *
 * Keys live as KeyObjects inside a closure, so logging or inspecting a Keyring never shows
 * key bytes.
 */
export interface Keyring {
  readonly activeKeyId: string;
  /** Every key id, in the order listed. */
  readonly keyIds: readonly string[];
  /** undefined for an id this process does not hold. */
  key(keyId: string): KeyObject | undefined;
}

export interface LoadKeyringOptions {
  /** SEALING_KEYS (parsed, checked against SEALING_ACTIVE_KEY by the configuration), if set. */
  keys: Keyring | undefined;
  activeKey: string | undefined;
  dataDir: string;
  log: (msg: string) => void;
}

/** What a key id may look like; also guards every place an id is echoed in a message. */
export const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;
// Standard or URL-safe alphabet; Buffer.from(..., "base64") silently skips anything else,
// so the check has to happen before decoding.
const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;
const KEY_BYTES = 32;
const DEV_KEY_FILE = "sealing-key";

/**
 * Parses `k2024:base64key,k2025:base64key`. The active key is `activeKeyId`, or the last one
 * listed. Errors name the key id or the entry's position, never key material.
 */
export function parseKeyring(spec: string, activeKeyId?: string): Keyring {
  return parse(spec, activeKeyId, "SEALING_KEYS");
}

/**
 * The process keyring: the configured SEALING_KEYS with SEALING_ACTIVE_KEY active, otherwise
 * (the configuration refuses this in production) a development key kept in
 * `<dataDir>/sealing-key`, created on first use.
 */
export function loadKeyring(options: LoadKeyringOptions): Keyring {
  if (options.keys) return options.activeKey ? withActiveKey(options.keys, options.activeKey) : options.keys;
  return loadDevKey(options.dataDir, options.log);
}

function withActiveKey(keyring: Keyring, activeKeyId: string): Keyring {
  if (!keyring.keyIds.includes(activeKeyId)) throw new Error(`SEALING_ACTIVE_KEY "${activeKeyId}" is not one of the keys in SEALING_KEYS (${keyring.keyIds.join(", ")})`);
  return { activeKeyId, keyIds: keyring.keyIds, key: keyring.key };
}

function loadDevKey(dataDir: string, log: (msg: string) => void): Keyring {
  const path = join(dataDir, DEV_KEY_FILE);
  ensureDataDir(dataDir);
  if (!exists(path)) {
    if (createDevKey(path)) log(`generated a development sealing key at ${path}`);
  }
  // Windows has no POSIX modes to check (stat reports 0o666 for every file).
  const mode = statSync(path).mode & 0o777;
  if (process.platform !== "win32" && (mode & 0o077) !== 0) {
    throw new Error(
      `sealing key file ${path} has mode 0${mode.toString(8)}: it must not be accessible to group or others. Run: chmod 600 ${path}`,
    );
  }
  return parse(readFileSync(path, "utf8").trim(), undefined, path);
}

/**
 * Writes a fresh key to a 0600 temp file, then links it into place. link (unlike rename)
 * fails if the file already exists, so when two processes start at once the first key
 * wins and neither overwrites a key that may already seal data. Returns false if another
 * process got there first.
 */
function createDevKey(path: string): boolean {
  const keyId = `dev-${new Date().toISOString().slice(0, 10).replaceAll("-", "")}`;
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  const fd = openSync(tmp, "wx", 0o600);
  try {
    writeSync(fd, `${keyId}:${randomBytes(KEY_BYTES).toString("base64")}\n`);
    // Durable before visible: a crash must not leave an empty key file behind.
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(tmp, path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw e;
  } finally {
    unlinkSync(tmp);
  }
}

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw e;
  }
}

function parse(spec: string, activeKeyId: string | undefined, source: string): Keyring {
  const keys = new Map<string, KeyObject>();
  const entries = spec.split(",").map((s) => s.trim()).filter((s) => s !== "");
  if (entries.length === 0) throw new Error(`${source} lists no keys (expected <keyId>:<base64 key>[,...])`);

  entries.forEach((entry, i) => {
    const at = `${source} entry #${i + 1}`;
    const colon = entry.indexOf(":");
    if (colon < 0) throw new Error(`${at} has no ':' (expected <keyId>:<base64 key>)`);
    const id = entry.slice(0, colon).trim();
    const encoded = entry.slice(colon + 1).trim();
    // An invalid id is not echoed: it may be a key pasted in the wrong place. A valid id is
    // at most 32 characters, too short to hold a base64 32-byte key, so echoing it is safe.
    if (!KEY_ID.test(id)) throw new Error(`${at}: the key id must match ${KEY_ID} (1-32 letters, digits, '_' or '-')`);
    if (keys.has(id)) throw new Error(`${source}: key id "${id}" is listed twice`);
    if (!BASE64.test(encoded)) throw new Error(`${source}: key "${id}" is not valid base64`);
    const raw = Buffer.from(encoded, "base64");
    try {
      if (raw.length !== KEY_BYTES) {
        throw new Error(`${source}: key "${id}" decodes to ${raw.length} bytes; it must be exactly ${KEY_BYTES} (e.g. openssl rand -base64 32)`);
      }
      keys.set(id, createSecretKey(raw));
    } finally {
      raw.fill(0); // createSecretKey copied it
    }
  });

  const ids = [...keys.keys()];
  const active = activeKeyId ?? ids[ids.length - 1]!;
  if (!keys.has(active)) {
    // Same reasoning as above: only echo what looks like a key id.
    const named = KEY_ID.test(active) ? `"${active}"` : "(not a valid key id)";
    throw new Error(`SEALING_ACTIVE_KEY ${named} is not one of the keys in ${source} (${ids.join(", ")})`);
  }

  return {
    activeKeyId: active,
    keyIds: ids,
    key: (keyId) => keys.get(keyId),
  };
}
