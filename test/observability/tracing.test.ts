import { randomBytes } from "node:crypto";
import { Code } from "@connectrpc/connect";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { AccountService } from "../../gen/postpress/accounts/v1/account_service_pb.js";
import type { Connector } from "../../src/domain/connectors/connector.ts";
import { createLogger } from "../../src/logging.ts";
import { startTracing, type Tracing } from "../../src/observability/tracing.ts";
import { expectOk, twitterRequest, uniqueLogin } from "../accounts/helpers.ts";
import { callRpc, unaryClient, type Wire } from "../support/clients.ts";
import { attribute, spansOf, startOtlpReceiver, type OtlpReceiver } from "../support/otlp-receiver.ts";
import { startTestServer, type TestServer } from "../support/server.ts";

const { getAccount, connectAccount } = AccountService.method;
const MISSING = "acc_01HZZZZZZZZZZZZZZZZZZZZZZZ";

function traceparent() {
  const traceId = randomBytes(16).toString("hex");
  const parentId = randomBytes(8).toString("hex");
  return { traceId, parentId, header: { traceparent: `00-${traceId}-${parentId}-01` } };
}

let users = 0;
const twitter: Connector = { variants: ["twitter"], connect: async () => ({ identity: { providerUserId: `tw-${++users}` } }) };

describe("tracing", () => {
  let receiver: OtlpReceiver;
  let server: TestServer;
  let tracing: Tracing | undefined;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    // Every call reads its API key (no cache), so each RPC span has its own store getApiKey span.
    server = await startTestServer({ connectors: [twitter], env: { API_KEY_CACHE_MS: "0" } });
  });
  afterEach(async () => {
    await tracing?.shutdown();
    tracing = undefined;
    receiver.received.length = 0;
  });
  afterAll(async () => {
    await server?.close();
    await receiver?.close();
  });

  const silent = createLogger({ level: "silent" });

  it("off (the default): nothing is exported, yet the caller's trace id reaches the per-RPC log line", async () => {
    const { traceId, header } = traceparent();
    await callRpc(server, "grpc", getAccount, { accountId: MISSING }, { apiKey: server.apiKey, headers: header });
    const line = server.logs.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === "rpc" && l.traceId === traceId);
    expect(line).toMatchObject({ method: "GetAccount", transport: "grpc", code: "NotFound" });
    expect(receiver.received).toHaveLength(0);
  });

  it.each<Wire>(["grpc", "connect-json"])("OTLP/HTTP JSON over %s: the RPC span continues the caller's trace, with store and connector spans under it", async (wire) => {
    tracing = await startTracing({ protocol: "http/json", url: receiver.url, serviceVersion: "test" }, silent);
    const { traceId, parentId, header } = traceparent();
    const planted = `planted-secret-${randomBytes(6).toString("hex")}`;
    expectOk(await callRpc(server, wire, connectAccount, twitterRequest(uniqueLogin("traced"), planted), { apiKey: server.apiKey, headers: header }));
    await tracing.shutdown();
    tracing = undefined;
    // Spans carry names, ids and fixed attributes: never a credential nor the API key.
    const exported = Buffer.concat(receiver.received.map((r) => r.body)).toString("utf8");
    expect(exported).not.toContain(planted);
    expect(exported).not.toContain(server.apiKey.slice(-20));

    expect(receiver.received[0]?.contentType).toBe("application/json");
    const spans = spansOf(receiver.received).filter((s) => s.traceId === traceId);
    const rpc = spans.find((s) => s.name === "postpress.accounts.v1.AccountService/ConnectAccount");
    expect(rpc).toBeDefined();
    expect(rpc!.parentSpanId).toBe(parentId);
    expect(rpc!.kind).toBe(2); // SPAN_KIND_SERVER
    expect(attribute(rpc!, "rpc.method")).toBe("ConnectAccount");
    expect(attribute(rpc!, "rpc.system")).toBe(wire === "grpc" ? "grpc" : "connect_rpc");
    const children = spans.filter((s) => s.parentSpanId === rpc!.spanId).map((s) => s.name);
    expect(children).toEqual(expect.arrayContaining(["store getApiKey", "store openIntent", "connector connect", "store insertAccount"]));
    const connector = spans.find((s) => s.name === "connector connect")!;
    expect(attribute(connector, "postpress.provider")).toBe("TWITTER");

    const line = server.logs.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === "rpc" && l.traceId === traceId);
    expect(line).toMatchObject({ method: "ConnectAccount", code: "OK" });
  });

  it("OTLP/HTTP protobuf (the standard default): the export carries the caller's trace id and the RPC span", async () => {
    tracing = await startTracing({ protocol: "http/protobuf", url: receiver.url, serviceVersion: "test" }, silent);
    const { traceId, header } = traceparent();
    await callRpc(server, "grpc-web", getAccount, { accountId: MISSING }, { apiKey: server.apiKey, headers: header });
    await tracing.shutdown();
    tracing = undefined;

    expect(receiver.received[0]?.contentType).toBe("application/x-protobuf");
    const body = Buffer.concat(receiver.received.map((r) => r.body));
    // Protobuf carries ids as raw bytes and names as UTF-8: both are in the export as they are.
    expect(body.includes(Buffer.from(traceId, "hex"))).toBe(true);
    expect(body.includes(Buffer.from("postpress.accounts.v1.AccountService/GetAccount"))).toBe(true);
  });

  it("a streamed answer over Connect: the store work of the stream runs under the RPC span", async () => {
    tracing = await startTracing({ protocol: "http/json", url: receiver.url, serviceVersion: "test" }, silent);
    const { traceId, header } = traceparent();
    const client = unaryClient(AccountService, server, "connect-binary");
    const failure = await (async () => {
      for await (const _ of client.watchAccount({ accountId: MISSING }, { headers: { "x-api-key": server.apiKey, ...header } }));
    })().catch((e: unknown) => e);
    expect(failure).toMatchObject({ code: Code.NotFound });
    await tracing.shutdown();
    tracing = undefined;

    const spans = spansOf(receiver.received).filter((s) => s.traceId === traceId);
    const rpc = spans.find((s) => s.name === "postpress.accounts.v1.AccountService/WatchAccount")!;
    const children = spans.filter((s) => s.parentSpanId === rpc.spanId).map((s) => s.name);
    // getApiKey runs before the stream; the others only once its first message is asked for.
    expect(children.filter((name) => name.startsWith("store ") && name !== "store getApiKey")).not.toEqual([]);
  });

  it("a call without traceparent starts a trace of its own, logged with the RPC", async () => {
    tracing = await startTracing({ protocol: "http/json", url: receiver.url, serviceVersion: "test" }, silent);
    const before = server.logs.length;
    await callRpc(server, "connect-json", getAccount, { accountId: MISSING }, { apiKey: server.apiKey });
    await tracing.shutdown();
    tracing = undefined;
    const line = server.logs.slice(before).map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === "rpc");
    expect(line?.traceId).toMatch(/^[0-9a-f]{32}$/);
    const rpc = spansOf(receiver.received).find((s) => s.name.endsWith("/GetAccount"));
    expect(rpc?.traceId).toBe(line?.traceId);
    expect(rpc?.parentSpanId ?? "").toBe("");
  });
});
