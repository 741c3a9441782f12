import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { AccountService } from "../../gen/postpress/accounts/v1/account_service_pb.js";
import { callRpc } from "../support/clients.ts";
import { WEB_REQUESTS } from "../support/drivers/web-requests.ts";
import { startServiceProcess, tempDataDir, type ServiceProcess } from "../support/process.ts";

/**
 * The README's `npm start` with no configuration at all (its own ports and data directory
 * aside): each of the seven web variants reaches its real driver, which goes for the real
 * provider (www.linkedin.com, i.instagram.com, b-graph.facebook.com, api.x.com...). This
 * machine has no network, so the honest answers are provider_unreachable (the name does not
 * resolve) or request_timeout; feature_not_implemented would mean no driver behind it.
 */

const dataDir = tempDataDir();
let service: ServiceProcess | undefined;
afterAll(() => {
  service?.kill();
  rmSync(dataDir, { recursive: true, force: true });
});

describe("npm start, default configuration", () => {
  it("each of the seven web variants reaches its real driver: provider_unreachable or request_timeout, never feature_not_implemented", async () => {
    service = await startServiceProcess({ command: ["npm", "start"], dataDir, readyTimeoutMs: 30_000 });
    const apiKey = readFileSync(join(dataDir, "api-key"), "utf8").trim();
    const answers: Record<string, string | undefined> = {};
    for (const [variant, request] of WEB_REQUESTS) {
      const r = await callRpc(service, "grpc", AccountService.method.connectAccount, request, { apiKey, timeoutMs: 60_000 });
      answers[variant] = r.ok ? "ok" : r.error.errorInfo?.metadata.type;
    }
    for (const [variant, type] of Object.entries(answers)) expect(["errors/provider_unreachable", "errors/request_timeout"], `${variant}: ${type}`).toContain(type);
    expect(Object.keys(answers).sort()).toEqual(WEB_REQUESTS.map(([variant]) => variant).sort());
    // The drivers' own log lines name the variant they ran.
    const ran = service.logs().filter((l) => l.msg === "provider login started").map((l) => l.variant);
    expect(new Set(ran)).toEqual(new Set(WEB_REQUESTS.map(([variant]) => variant)));
    service.child.kill("SIGTERM");
    expect(await service.exited).toEqual({ code: 0, signal: null });
  });
});
