import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../support/process.ts";

/**
 * scripts/apt-install.sh (what `npm test`'s system-deps step installs with) waits while
 * another apt holds its locks instead of failing at once. apt-get is replaced on PATH by a
 * stand-in that answers as apt does while the lock is held, then succeeds.
 */

const dir = mkdtempSync(join(tmpdir(), "ppa-apt-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function fakeAptGet(busyRuns: number): string {
  const bin = join(dir, `bin-${busyRuns}`);
  const calls = join(bin, "calls");
  mkdirSync(bin, { recursive: true });
  writeFileSync(calls, "");
  const script = `#!/usr/bin/env bash
echo "$*" >> ${JSON.stringify(calls)}
n=$(wc -l < ${JSON.stringify(calls)})
if [ "$n" -le ${busyRuns} ]; then
  echo "E: Could not get lock /var/lib/apt/lists/lock. It is held by process 4242 (apt-get)" >&2
  exit 100
fi
exit 0
`;
  writeFileSync(join(bin, "apt-get"), script);
  chmodSync(join(bin, "apt-get"), 0o755);
  return bin;
}

function run(bin: string, env: Record<string, string> = {}) {
  return spawnSync("bash", [join(REPO_ROOT, "scripts/apt-install.sh"), "dovecot-imapd"], {
    env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, ...env },
    encoding: "utf8",
  });
}

describe("scripts/apt-install.sh", () => {
  it("waits while another apt holds the lock, then installs", () => {
    const bin = fakeAptGet(2);
    const r = run(bin);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain("apt is busy");
    const calls = readFileSync(join(bin, "calls"), "utf8").trim().split("\n");
    // update refused twice, then update and install; apt itself is told to wait for dpkg's lock.
    expect(calls).toHaveLength(4);
    expect(calls[3]).toMatch(/-o DPkg::Lock::Timeout=\d+ install -y -qq --no-install-recommends dovecot-imapd/);
  });

  it("gives up with apt's own message once APT_LOCK_WAIT_S has passed", () => {
    const r = run(fakeAptGet(1000), { APT_LOCK_WAIT_S: "1" });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("Could not get lock");
  });
});
