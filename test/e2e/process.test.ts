import { readFileSync, rmSync, statSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { AccountService } from "../../gen/postpress/accounts/v1/account_service_pb.js";
import { callRpc } from "../support/clients.ts";
import { startServiceProcess, tempDataDir, type ServiceProcess } from "../support/process.ts";
import { healthCheck, watchHealth } from "./health.ts";

/** The real `node src/main.ts`: first start, both ports, and a graceful stop on SIGTERM and SIGINT. */

const KEY_FORMAT = /^ppa_[0-9A-Z]{26}_[A-Za-z0-9_-]{43}$/;
const dataDir = tempDataDir();
const started: ServiceProcess[] = [];
afterAll(() => {
  for (const p of started) p.kill();
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

async function stopsGracefully(service: ServiceProcess, signal: NodeJS.Signals, apiKey: string) {
  // A Watch opened before the signal sees health go NOT_SERVING as the drain begins.
  const watch = watchHealth(service.grpcAddress);
  await watch.seen("SERVING");
  const stoppingAt = Date.now();
  service.child.kill(signal);
  await watch.seen("NOT_SERVING");
  // The watcher does not hang up: the server ends its stream (OK) rather than wait for it.
  expect(await watch.ended).toBe(0);

  const exit = await service.exited;
  expect(exit).toEqual({ code: 0, signal: null });
  expect(Date.now() - stoppingAt).toBeLessThan(5000);
  const messages = service.logs().map((l) => l.msg);
  expect(service.logs().find((l) => l.msg === "draining")?.signal).toBe(signal);
  expect(messages).toContain("stopped");

  // Nobody listens any more: new connections are refused on both ports.
  expect(await refused(service.grpcAddress)).toBe(true);
  expect(await refused(service.httpUrl)).toBe(true);
  expect(await healthCheck(service.grpcAddress)).toBe(14);
  const r = await callRpc(service, "connect-json", AccountService.method.listAccounts, {}, { apiKey }).catch((e: unknown) => e);
  expect(r).toBeInstanceOf(Error);
}

describe("first start on an empty data directory", () => {
  let service: ServiceProcess;
  let apiKey: string;

  it("starts, writes <DATA_DIR>/api-key with mode 0600, logs the path but never the key", async () => {
    service = await startServiceProcess({ dataDir });
    started.push(service);
    const path = join(dataDir, "api-key");
    expect(statSync(path).mode & 0o777).toBe(0o600);
    apiKey = readFileSync(path, "utf8").trim();
    expect(apiKey).toMatch(KEY_FORMAT);
    const everything = [...service.stdout, ...service.stderr].join("\n");
    expect(everything).toContain(path);
    expect(everything).not.toContain(apiKey);
    expect(everything).not.toContain(apiKey.slice("ppa_".length + 26 + 1));
  });

  it("answers on both ports with the bootstrap key, and health is SERVING without one", async () => {
    for (const wire of ["grpc", "connect-json", "connect-binary", "grpc-web"] as const) {
      const r = await callRpc(service, wire, AccountService.method.listAccounts, {}, { apiKey });
      expect(r.ok, wire).toBe(true);
      const denied = await callRpc(service, wire, AccountService.method.listAccounts, {}, {});
      expect(!denied.ok && denied.error.errorInfo?.metadata.type, wire).toBe("errors/missing_api_key");
    }
    expect(await healthCheck(service.grpcAddress)).toBe("SERVING");
    expect(await healthCheck(service.grpcAddress, "postpress.accounts.v1.AccountService")).toBe("SERVING");
  });

  it("on SIGTERM: health goes NOT_SERVING, exit code 0, both ports closed", async () => {
    await stopsGracefully(service, "SIGTERM", apiKey);
  });
});

describe("restart on the same data directory", () => {
  it("keeps the store (the first key still works, no new key file), then stops on SIGINT the same way", async () => {
    const keyBefore = readFileSync(join(dataDir, "api-key"), "utf8").trim();
    const service = await startServiceProcess({ dataDir });
    started.push(service);
    expect(readFileSync(join(dataDir, "api-key"), "utf8").trim()).toBe(keyBefore);
    expect(service.logs().some((l) => typeof l.msg === "string" && l.msg.includes("API key"))).toBe(false);
    const r = await callRpc(service, "grpc", AccountService.method.listAccounts, {}, { apiKey: keyBefore });
    expect(r.ok).toBe(true);
    await stopsGracefully(service, "SIGINT", keyBefore);
  });
});
