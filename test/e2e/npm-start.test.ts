import { readFileSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { REPO_ROOT, startServiceProcess, tempDataDir, type ServiceProcess } from "../support/process.ts";
import { watchHealth } from "./health.ts";

/**
 * The README's start command, `npm start`, as a supervisor (systemd, a container runtime, a
 * process manager) runs it: the signal goes to the npm process, and must reach the server,
 * which drains and exits; npm then exits 0 and nothing is left running or listening.
 */

const dataDir = tempDataDir();
const started: ServiceProcess[] = [];
const serverPids: number[] = [];
afterAll(() => {
  for (const p of started) p.kill();
  // Should a server outlive npm (the failure this file is about), it must not outlive the test.
  for (const pid of serverPids.filter(running)) process.kill(pid, "SIGKILL");
  rmSync(dataDir, { recursive: true, force: true });
});

function refused(address: string): Promise<boolean> {
  const [host, port] = address.replace(/^http:\/\//, "").split(":");
  return new Promise((resolve) => {
    const socket = connect(Number(port), host!);
    socket.once("connect", () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("error", (e: NodeJS.ErrnoException) => resolve(e.code === "ECONNREFUSED"));
  });
}

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== "ESRCH";
  }
}

describe.each(["SIGTERM", "SIGINT"] as const)("npm start, then %s to the npm process", (signal) => {
  it("drains, npm exits 0, the server process is gone and both ports are closed", async () => {
    const service = await startServiceProcess({ command: ["npm", "start"], dataDir, readyTimeoutMs: 30_000 });
    started.push(service);
    const serving = service.logs().find((l) => l.msg === "serving gRPC and Connect")!;
    const serverPid = serving.pid as number;
    serverPids.push(serverPid);
    // npm runs the script through a shell; with `exec` the shell becomes the server itself.
    expect(serverPid).not.toBe(service.child.pid);
    // A watcher that never hangs up must not hold the drain either.
    const watch = watchHealth(service.grpcAddress);
    await watch.seen("SERVING");

    const t0 = Date.now();
    service.child.kill(signal);
    const exit = await service.exited;

    expect(exit).toEqual({ code: 0, signal: null });
    expect(Date.now() - t0).toBeLessThan(8_000); // DRAIN_TIMEOUT_MS is 10 s: nothing waited it out
    expect(service.logs().find((l) => l.msg === "draining")?.signal).toBe(signal);
    expect(service.logs().map((l) => l.msg)).toContain("stopped");
    expect(await watch.ended).toBe(0);
    expect(running(serverPid), `server process ${serverPid} left running`).toBe(false);
    expect(await refused(service.grpcAddress)).toBe(true);
    expect(await refused(service.httpUrl)).toBe(true);
  });
});

describe("npm start runs the start-up bundle (src/bundle/)", () => {
  it("from the bundle, not the sources, and files its modules read beside them still come from the repository", async () => {
    const service = await startServiceProcess({ command: ["npm", "start"], dataDir, readyTimeoutMs: 30_000 });
    started.push(service);
    // The one warning main.ts gives when it falls back to the sources.
    expect(service.stderr.join("\n")).not.toContain("start-up bundle could not be built");
    // src/rest/openapi.ts reads docs/openapi.json relative to its own location.
    const served = await fetch(`${service.httpUrl}/api/v1/openapi.json`);
    expect(served.status).toBe(200);
    expect(await served.text()).toBe(readFileSync(join(REPO_ROOT, "docs/openapi.json"), "utf8"));
    service.child.kill("SIGTERM");
    expect(await service.exited).toEqual({ code: 0, signal: null });
  });
});
