import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AccountService } from "../../gen/postpress/accounts/v1/account_service_pb.js";
import { expectOk, twitterRequest, uniqueLogin } from "../accounts/helpers.ts";
import { callRpc } from "../support/clients.ts";
import { scrape, valueOf } from "../support/prometheus.ts";
import { createScriptedConnector } from "../support/scripted-connector.ts";
import { startTestServer, type TestServer } from "../support/server.ts";

const { getAccount, listAccounts, connectAccount } = AccountService.method;
const MISSING = "acc_01HZZZZZZZZZZZZZZZZZZZZZZZ";

/** GET /metrics on the admin port, after real calls over every transport. */
describe("Prometheus metrics", () => {
  let server: TestServer;
  const connector = createScriptedConnector();

  beforeAll(async () => {
    server = await startTestServer({ metrics: true, connectors: [connector] });
  });
  afterAll(() => server?.close());

  it("counts RPCs by method, transport and code on both ports, with latency histograms", async () => {
    const key = { apiKey: server.apiKey };
    for (let i = 0; i < 2; i++) expect((await callRpc(server, "grpc", getAccount, { accountId: MISSING }, key)).ok).toBe(false);
    expect((await callRpc(server, "connect-json", getAccount, { accountId: MISSING }, key)).ok).toBe(false);
    expectOk(await callRpc(server, "grpc", listAccounts, {}, key));
    expectOk(await callRpc(server, "grpc-web", listAccounts, {}, key));
    expectOk(await callRpc(server, "connect-binary", listAccounts, {}, key));
    expect((await callRpc(server, "connect-binary", listAccounts, {})).ok).toBe(false);

    const samples = await scrape(server.metricsUrl!);
    const calls = (method: string, transport: string, code: string) => valueOf(samples, "postpress_accounts_rpc_requests_total", { method, transport, code });
    expect(calls("GetAccount", "grpc", "NotFound")).toBe(2);
    expect(calls("GetAccount", "connect", "NotFound")).toBe(1);
    expect(calls("ListAccounts", "grpc", "OK")).toBe(1);
    expect(calls("ListAccounts", "grpc-web", "OK")).toBe(1);
    expect(calls("ListAccounts", "connect", "OK")).toBe(1);
    expect(calls("ListAccounts", "connect", "Unauthenticated")).toBe(1);
    expect(calls("ListAccounts", "connect", "NotFound")).toBeUndefined();
    const histogram = { method: "GetAccount", transport: "grpc", code: "NotFound" };
    expect(valueOf(samples, "postpress_accounts_rpc_duration_seconds_count", histogram)).toBe(2);
    expect(valueOf(samples, "postpress_accounts_rpc_duration_seconds_sum", histogram)).toBeGreaterThan(0);
    expect(valueOf(samples, "postpress_accounts_rpc_duration_seconds_bucket", { ...histogram, le: "+Inf" })).toBe(2);
  });

  it("counts connector calls by provider and outcome, and shows open intents and the store", async () => {
    const failing = uniqueLogin("bad");
    connector.plan(failing, { fail: "invalid_credentials" });
    expectOk(await callRpc(server, "grpc", connectAccount, twitterRequest(uniqueLogin("ok")), { apiKey: server.apiKey }));
    expect((await callRpc(server, "connect-json", connectAccount, twitterRequest(failing), { apiKey: server.apiKey })).ok).toBe(false);

    // A login the connector holds: its intent is open while the call waits.
    const held = uniqueLogin("held");
    connector.plan(held, { waitMs: 60_000 });
    const abort = new AbortController();
    const pending = callRpc(server, "grpc", connectAccount, twitterRequest(held), { apiKey: server.apiKey, signal: abort.signal });
    await expect.poll(() => connector.callsFor(held).length, { timeout: 10_000 }).toBe(1);
    const samples = await scrape(server.metricsUrl!);
    abort.abort();
    await pending;

    const connectorCalls = (outcome: string) => valueOf(samples, "postpress_accounts_connector_calls_total", { provider: "TWITTER", operation: "connect", outcome });
    expect(connectorCalls("ok")).toBe(1);
    expect(connectorCalls("invalid_credentials")).toBe(1);
    expect(valueOf(samples, "postpress_accounts_connector_duration_seconds_count", { provider: "TWITTER", operation: "connect" })).toBe(2);
    expect(valueOf(samples, "postpress_accounts_open_intents")).toBe(1);
    expect(valueOf(samples, "postpress_accounts_store_up")).toBe(1);
    // Process metrics come along (prom-client's defaults).
    expect(valueOf(samples, "process_cpu_user_seconds_total")).toBeGreaterThan(0);
    expect(samples.some((s) => s.name === "nodejs_eventloop_lag_seconds")).toBe(true);
  });

  it("serves nothing but GET /metrics on the admin port, and never metrics on the API port", async () => {
    expect((await fetch(`${server.metricsUrl}/`)).status).toBe(404);
    expect((await fetch(`${server.metricsUrl}/metrics`, { method: "POST" })).status).toBe(404);
    const onApi = await fetch(`${server.httpUrl}/metrics`);
    expect(onApi.status).not.toBe(200);
    expect(await onApi.text()).not.toContain("postpress_accounts_rpc_requests_total");
  });
});
