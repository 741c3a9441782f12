import { Code, ConnectError, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { ErrorInfoSchema, RetryInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AccountService } from "../../gen/postpress/accounts/v1/account_service_pb.js";
import { AppError } from "../../src/errors/app-error.ts";
import { callRpc, WIRES, type CallOptions, type RpcResult, type Wire } from "../support/clients.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import { scriptedConnector, type ScriptedConnector } from "../support/test-connectors.ts";
import type { ConnectInit } from "./examples.ts";

/** The caller's deadline reaches the connector as an aborted signal, and the caller gets errors/request_timeout in time. */

let server: TestServer;
let connector: ScriptedConnector;
beforeAll(async () => {
  connector = scriptedConnector(["twitter"]);
  server = await startTestServer({ connectors: [connector] });
});
afterAll(() => server.close());

/**
 * connect-node starts its timer (and writes the timeout header) before it has a connection,
 * so on a cold connection the server's view of the deadline is later than the caller's by
 * the connection setup. Real callers reuse connections: so do these (warmed up once).
 */
const transports = new Map<Wire, Transport>();
beforeAll(async () => {
  transports.set("connect-binary", createConnectTransport({ baseUrl: server.httpUrl, httpVersion: "1.1", useBinaryFormat: true }));
  transports.set("grpc-web", createGrpcWebTransport({ baseUrl: server.httpUrl, httpVersion: "2" }));
  for (const transport of transports.values()) await transport.unary(AccountService.method.listAccounts, undefined, undefined, { "x-api-key": server.apiKey }, {});
  // The first ConnectAccount of a process compiles its validation rules: not part of what is measured.
  for (const wire of WIRES) expect((await connectAccount(wire, twitter(`warm-up-${wire}`, "pw"), { apiKey: server.apiKey })).ok).toBe(true);
});

async function connectAccount(wire: Wire, request: ConnectInit, options: CallOptions): Promise<RpcResult<unknown>> {
  const transport = transports.get(wire);
  if (!transport) return callRpc(server, wire, AccountService.method.connectAccount, request, options);
  try {
    const res = await transport.unary(AccountService.method.connectAccount, options.signal, options.timeoutMs, { "x-api-key": server.apiKey, ...options.headers }, request);
    return { ok: true, response: res.message };
  } catch (e) {
    const err = ConnectError.from(e);
    const infos = err.findDetails(ErrorInfoSchema);
    return { ok: false, error: { code: err.code, message: err.rawMessage, errorInfo: infos[0], errorInfoCount: infos.length, badRequest: undefined, retryInfo: err.findDetails(RetryInfoSchema)[0] } };
  }
}

const twitter = (username: string, password: string): ConnectInit => ({ variant: { case: "twitter", value: { username, email: "anna@acme.com", password } } });

async function until(predicate: () => boolean, ms = 10_000) {
  const end = Date.now() + ms;
  while (!predicate() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
}

describe.each(WIRES)("over %s", (wire: Wire) => {
  // 2 s leaves the server its largest safety margin (500 ms, src/domain/deadline.ts) to answer
  // before the caller gives up, so a busy machine does not turn our ErrorInfo into the client's own timeout.
  it("a deadline on a connector that waits → DEADLINE_EXCEEDED errors/request_timeout from the server, before the caller's own timer; the connector saw its signal abort", async () => {
    const username = `deadline-${wire}`;
    const started = Date.now();
    const r = await connectAccount(wire, twitter(username, "wait"), { apiKey: server.apiKey, timeoutMs: 2000 });
    const elapsed = Date.now() - started;

    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.code).toBe(Code.DeadlineExceeded);
    expect(r.error.errorInfoCount, "the answer carries our ErrorInfo (the server answered before the caller gave up)").toBe(1);
    expect(r.error.errorInfo?.metadata.type).toBe("errors/request_timeout");
    expect(r.error.errorInfo?.metadata.httpStatus).toBe("408");
    expect(r.error.retryInfo).toBeDefined();
    // Not answered early: the server waited out the deadline less its margin.
    expect(elapsed).toBeGreaterThanOrEqual(1000);

    const call = connector.calls.findLast((c) => c.command === "wait" && c.startedAt >= started);
    expect(call).toBeDefined();
    await until(() => call!.endedAt !== undefined);
    expect(call!.signalAborted).toBe(true);
    expect(call!.abortReason).toBeInstanceOf(AppError);
    expect((call!.abortReason as AppError).kind).toBe("request_timeout");
    expect(call!.outcome).toBe("aborted");
  });

  it("a call that finishes within its deadline succeeds", async () => {
    const r = await connectAccount(wire, twitter(`in-time-${wire}`, "sleep:50"), { apiKey: server.apiKey, timeoutMs: 2000 });
    expect(r.ok).toBe(true);
  });

  it("the caller canceling aborts the connector's signal (errors/request_canceled) and is logged", async () => {
    const requestId = `cancel-${wire}`;
    const controller = new AbortController();
    const started = Date.now();
    const pending = connectAccount(wire, twitter(`cancel-${wire}`, "wait"), { apiKey: server.apiKey, signal: controller.signal, headers: { "x-request-id": requestId } }).catch(
      (e: unknown) => e,
    );
    await until(() => connector.calls.some((c) => c.command === "wait" && c.startedAt >= started));
    controller.abort();
    await pending;
    const call = connector.calls.findLast((c) => c.command === "wait" && c.startedAt >= started)!;
    await until(() => call.endedAt !== undefined);
    expect(call.signalAborted).toBe(true);
    expect((call.abortReason as AppError).kind).toBe("request_canceled");
    await until(() => server.logs.some((l) => l.includes(requestId)));
    const line = server.logs.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.requestId === requestId);
    expect(line?.errorType).toBe("errors/request_canceled");
  });
});
