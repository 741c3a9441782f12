import { randomBytes } from "node:crypto";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AccountService } from "../../gen/postpress/accounts/v1/account_service_pb.js";
import { expectOk } from "../accounts/helpers.ts";
import { callRpc } from "../support/clients.ts";
import { serviceNamesOf, spansOf, startOtlpReceiver, type OtlpReceiver } from "../support/otlp-receiver.ts";
import { freePort, startServiceProcess, type ServiceProcess } from "../support/process.ts";
import { scrape, valueOf } from "../support/prometheus.ts";

/**
 * The real `node src/main.ts`, configured only by environment variables as an operator would:
 * METRICS_PORT and the standard OTEL_* variables (the exporter reads its endpoint itself).
 */
describe("observability of the started service", () => {
  let receiver: OtlpReceiver;
  let service: ServiceProcess;
  let metricsPort: number;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    metricsPort = await freePort();
    service = await startServiceProcess({
      env: {
        METRICS_PORT: String(metricsPort),
        OTEL_TRACES_EXPORTER: "otlp",
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: receiver.url,
        OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "http/json",
        OTEL_SERVICE_NAME: "accounts-under-test",
      },
    });
  });
  afterAll(async () => {
    service?.kill();
    if (service) rmSync(service.dataDir, { recursive: true, force: true });
    await receiver?.close();
  });

  it("serves metrics and probes, and exports the caller's trace by the time it has stopped", async () => {
    const apiKey = readFileSync(join(service.dataDir, "api-key"), "utf8").trim();
    const traceId = randomBytes(16).toString("hex");
    const traceparent = `00-${traceId}-${randomBytes(8).toString("hex")}-01`;
    expectOk(await callRpc(service, "grpc", AccountService.method.listAccounts, {}, { apiKey, headers: { traceparent } }));
    expectOk(await callRpc(service, "connect-json", AccountService.method.listAccounts, {}, { apiKey }));

    const samples = await scrape(`http://127.0.0.1:${metricsPort}`);
    expect(valueOf(samples, "postpress_accounts_rpc_requests_total", { method: "ListAccounts", transport: "grpc", code: "OK" })).toBe(1);
    expect(valueOf(samples, "postpress_accounts_rpc_requests_total", { method: "ListAccounts", transport: "connect", code: "OK" })).toBe(1);
    expect((await fetch(`${service.httpUrl}/readyz`)).status).toBe(200);
    expect((await fetch(`${service.httpUrl}/healthz`)).status).toBe(200);
    expect(service.logs().find((l) => l.msg === "serving gRPC and Connect")).toMatchObject({ metricsPort });

    service.child.kill("SIGTERM");
    expect(await service.exited).toEqual({ code: 0, signal: null });
    // Spans still buffered are sent on the way out.
    const names = spansOf(receiver.received).filter((s) => s.traceId === traceId).map((s) => s.name);
    expect(names).toEqual(expect.arrayContaining(["postpress.accounts.v1.AccountService/ListAccounts", "store getApiKey", "store listAccounts"]));
    expect(serviceNamesOf(receiver.received)).toContain("accounts-under-test");
    expect(service.logs().find((l) => l.msg === "rpc" && l.traceId === traceId)).toMatchObject({ method: "ListAccounts", transport: "grpc" });
  });
});
