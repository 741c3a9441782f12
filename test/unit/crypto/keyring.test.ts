import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../../src/config.ts";
import { loadKeyring, parseKeyring, type LoadKeyringOptions } from "../../../src/crypto/keyring.ts";
import { createSealer, sealingAad } from "../../../src/crypto/sealer.ts";
import { keyEntry } from "./keys.ts";

function parseError(spec: string, active?: string): string {
  try {
    parseKeyring(spec, active);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error("expected parseKeyring to fail");
}

describe("parseKeyring", () => {
  it("takes the last listed key as active unless told otherwise", () => {
    const spec = `${keyEntry("k2024").entry}, ${keyEntry("k2025").entry}`;
    const ring = parseKeyring(spec);
    expect(ring.keyIds).toEqual(["k2024", "k2025"]);
    expect(ring.activeKeyId).toBe("k2025");
    expect(parseKeyring(spec, "k2024").activeKeyId).toBe("k2024");
    expect(ring.key("k2024")?.symmetricKeySize).toBe(32);
    expect(ring.key("nope")).toBeUndefined();
  });

  it("rejects a key of the wrong length, naming the id but not the key", () => {
    const short = keyEntry("k2024", 31);
    const message = parseError(short.entry);
    expect(message).toContain('"k2024"');
    expect(message).toContain("31 bytes");
    expect(message).not.toContain(short.material);
  });

  it("rejects a key that is not base64", () => {
    const message = parseError("k2024:not*base64!");
    expect(message).toContain('"k2024"');
    expect(message).not.toContain("not*base64!");
  });

  it("rejects a duplicate id", () => {
    const a = keyEntry("k2024");
    const b = keyEntry("k2024");
    const message = parseError(`${a.entry},${b.entry}`);
    expect(message).toContain('"k2024" is listed twice');
    expect(message).not.toContain(a.material);
    expect(message).not.toContain(b.material);
  });

  it("rejects an unknown active key", () => {
    const a = keyEntry("k2024");
    const message = parseError(a.entry, "k2099");
    expect(message).toContain('"k2099"');
    expect(message).not.toContain(a.material);
  });

  it("rejects invalid ids without echoing them (they may be a misplaced key)", () => {
    const a = keyEntry("k2024");
    // Key and id swapped: the "id" is now the key material.
    const swapped = `${a.material}:k2024`;
    const message = parseError(swapped);
    expect(message).toContain("entry #1");
    expect(message).not.toContain(a.material);
    expect(parseError(a.entry, a.material)).not.toContain(a.material);
  });

  it("rejects empty specs and entries without a colon", () => {
    expect(parseError(" , ")).toMatch(/lists no keys/);
    const a = keyEntry("k2024");
    const message = parseError(`${a.entry},${a.material}`);
    expect(message).toContain("entry #2 has no ':'");
    expect(message).not.toContain(a.material);
  });

  it("does not show key material when the keyring is logged", () => {
    const a = keyEntry("k2024");
    const ring = parseKeyring(a.entry);
    const shown = inspect(ring, { depth: 10, showHidden: true }) + JSON.stringify(ring);
    expect(shown).not.toContain(a.material);
    expect(shown).not.toContain(Buffer.from(a.material, "base64").toString("hex"));
  });
});

describe("loadKeyring", () => {
  let dir: string;
  let logs: string[];
  const options = (over: Partial<LoadKeyringOptions> = {}): LoadKeyringOptions => ({
    keys: undefined,
    activeKey: undefined,
    dataDir: join(dir, "data"),
    log: (msg) => logs.push(msg),
    ...over,
  });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "keyring-"));
    logs = [];
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("uses SEALING_KEYS and SEALING_ACTIVE_KEY when set, and writes no development key", () => {
    const env = { NODE_ENV: "production", SEALING_KEYS: `${keyEntry("k2024").entry},${keyEntry("k2025").entry}`, SEALING_ACTIVE_KEY: "k2024" };
    expect(loadKeyring(options(loadConfig(env).sealing)).activeKeyId).toBe("k2024");
    expect(loadKeyring(options({ keys: loadConfig({ SEALING_KEYS: env.SEALING_KEYS }).sealing.keys })).activeKeyId).toBe("k2025");
    expect(existsSync(join(dir, "data"))).toBe(false);
  });

  it("the configuration refuses production without SEALING_KEYS", () => {
    expect(() => loadConfig({ NODE_ENV: "production" })).toThrow(/SEALING_KEYS is required in production \(NODE_ENV=production\)/);
    expect(() => loadConfig({ NODE_ENV: "production", SEALING_KEYS: "  " })).toThrow(/required in production/);
  });

  it("the configuration refuses SEALING_ACTIVE_KEY without SEALING_KEYS, or naming a key it does not list", () => {
    expect(() => loadConfig({ SEALING_ACTIVE_KEY: "k2024" })).toThrow(/SEALING_KEYS is not/);
    expect(() => loadConfig({ SEALING_KEYS: keyEntry("k2025").entry, SEALING_ACTIVE_KEY: "k2024" })).toThrow(/SEALING_ACTIVE_KEY "k2024" is not one of the keys in SEALING_KEYS \(k2025\)/);
  });

  it("generates a 0600 development key once, then reuses it", () => {
    const first = loadKeyring(options());
    const path = join(dir, "data", "sealing-key");
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(first.activeKeyId).toMatch(/^dev-\d{8}$/);
    expect(logs).toEqual([`generated a development sealing key at ${path}`]);
    expect(readFileSync(path, "utf8")).toMatch(/^dev-\d{8}:[A-Za-z0-9+/]{43}=\n$/);

    const second = loadKeyring(options());
    expect(logs).toHaveLength(1);
    expect(second.activeKeyId).toBe(first.activeKeyId);
    // Same key, not merely the same id: data sealed by the first load opens with the second.
    const aad = sealingAad("ws_A", "acc_1");
    const blob = createSealer(first).seal(Buffer.from("secret"), aad);
    expect(createSealer(second).open(blob, aad).toString()).toBe("secret");
  });

  it("refuses a key file readable by group or others", () => {
    loadKeyring(options());
    const path = join(dir, "data", "sealing-key");
    chmodSync(path, 0o640);
    expect(() => loadKeyring(options())).toThrow(/mode 0640.*chmod 600/);
  });

  it("validates an existing key file without echoing its content", () => {
    const bad = keyEntry("dev-20250101", 16);
    const path = join(dir, "data", "sealing-key");
    loadKeyring(options());
    writeFileSync(path, `${bad.entry}\n`, { mode: 0o600 });
    let message = "";
    try {
      loadKeyring(options());
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain(path);
    expect(message).toContain('"dev-20250101"');
    expect(message).not.toContain(bad.material);
  });
});
