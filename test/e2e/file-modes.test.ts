import { chmodSync, mkdirSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { startServiceProcess, tempDataDir, type ServiceProcess } from "../support/process.ts";

/** Issue 12.8: every file the service writes in DATA_DIR is 0600, and a DATA_DIR others can write to is refused. */

const modeOf = (path: string) => (statSync(path).mode & 0o777).toString(8);

let service: ServiceProcess | undefined;
afterEach(async () => {
  service?.kill();
  await service?.exited;
  service = undefined;
});

describe.skipIf(process.platform === "win32")("data files", () => {
  it("a first start creates the directory 0700 and every file in it 0600, whatever the umask lets through", async () => {
    const dataDir = join(tempDataDir(), "data");
    service = await startServiceProcess({ dataDir });
    const modes = Object.fromEntries(readdirSync(dataDir).map((name) => [name, modeOf(join(dataDir, name))]));
    expect(modes).toEqual({ "accounts.db": "600", "accounts.db-wal": "600", "accounts.db-shm": "600", "api-key": "600", "sealing-key": "600" });
    expect(modeOf(dataDir)).toBe("700");
  });

  it("files an earlier version left readable are tightened; a readable but not writable directory is kept", async () => {
    const dataDir = tempDataDir();
    chmodSync(dataDir, 0o755);
    for (const name of ["accounts.db", "accounts.db-wal", "accounts.db-shm"]) writeFileSync(join(dataDir, name), "", { mode: 0o644 });
    writeFileSync(join(dataDir, "api-key"), "old\n", { mode: 0o644 });
    service = await startServiceProcess({ dataDir });
    for (const name of ["accounts.db", "accounts.db-wal", "accounts.db-shm", "api-key"]) expect(modeOf(join(dataDir, name)), name).toBe("600");
    expect(modeOf(dataDir)).toBe("755");
  });

  it.each(["777", "775", "1777"])("refuses to start on a data directory with mode 0%s", async (octal) => {
    const mode = parseInt(octal, 8);
    const dataDir = join(tempDataDir(), "shared");
    mkdirSync(dataDir);
    chmodSync(dataDir, mode);
    const started = startServiceProcess({ dataDir, readyTimeoutMs: 15_000 });
    await expect(started).rejects.toThrow(`DATA_DIR ${dataDir} has mode 0${octal}: other users can write to it and could replace the database or the keys. Run: chmod 700 ${dataDir}`);
    expect(readdirSync(dataDir)).toEqual([]);
  });
});
