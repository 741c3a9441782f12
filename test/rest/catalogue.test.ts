/**
 * The catalogue walk of test/rpc/catalogue.test.ts, on the REST surface: every entry, raised by
 * the connector behind POST /api/v1/accounts, comes back as problem+json with the entry's HTTP
 * status (the contract's, for its 34 rows), its exact type, title and a request id, conforming
 * to docs/openapi.json.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { catalogue, type ErrorKind } from "../../src/errors/catalogue.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import { scriptedConnector, type ScriptedConnector } from "../support/test-connectors.ts";
import { expectProblem, restChecked } from "./support.ts";

let server: TestServer;
let connector: ScriptedConnector;
beforeAll(async () => {
  connector = scriptedConnector(["twitter"]);
  server = await startTestServer({ connectors: [connector] });
});
afterAll(() => server.close());

const allKinds = Object.keys(catalogue) as ErrorKind[];

describe("every catalogue entry round-trips through REST with its HTTP status", () => {
  it.each(allKinds)("%s", async (kind) => {
    const entry = catalogue[kind];
    const before = connector.calls.length;
    const r = await restChecked(server.httpUrl, "POST", "/api/v1/accounts", {
      body: { provider: "TWITTER", username: `throw:${kind}`, email: "anna@acme.com", password: "hunter2" },
      apiKey: server.apiKey,
      client: entry.httpStatus === 407 ? "node-http" : "fetch",
    });
    expect(connector.calls.length, "the connector was reached").toBe(before + 1);
    expectProblem(r, entry.httpStatus, entry.type);
    expect(r.body.title).toBe(entry.message);
    expect(r.body.detail).toBe(entry.message);
    expect(r.body.retryable).toBe(entry.retryable);
    expect(r.body.request_id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(r.body.invalid_params).toBeUndefined();
    if (entry.retryable) expect(Number(r.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    else expect(r.headers.get("retry-after")).toBeNull();
  });

  it("the caller's X-Request-Id is the problem's request_id", async () => {
    const r = await restChecked(server.httpUrl, "POST", "/api/v1/accounts", {
      body: { provider: "TWITTER", username: "throw:no_channel", email: "anna@acme.com", password: "hunter2" },
      apiKey: server.apiKey,
      headers: { "x-request-id": "trace-42" },
    });
    expectProblem(r, 503, "errors/no_channel");
    expect(r.body.request_id).toBe("trace-42");
  });

  it("a connector crash is 500 errors/unexpected_error, its message kept on the server", async () => {
    const r = await restChecked(server.httpUrl, "POST", "/api/v1/accounts", {
      body: { provider: "TWITTER", username: "crash", email: "anna@acme.com", password: "hunter2" },
      apiKey: server.apiKey,
    });
    expectProblem(r, 500, "errors/unexpected_error");
    expect(JSON.stringify(r.body)).not.toContain("test connector crashed");
    expect(server.logs.some((l) => l.includes("test connector crashed"))).toBe(true);
  });

  it("the call's log line names the RPC and the rest transport", async () => {
    const r = await restChecked(server.httpUrl, "POST", "/api/v1/accounts", {
      body: { provider: "TWITTER", username: "throw:proxy_error", email: "anna@acme.com", password: "hunter2" },
      apiKey: server.apiKey,
    });
    const line = server.logs.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.requestId === r.body.request_id && l.msg === "rpc");
    expect(line).toMatchObject({ method: "ConnectAccount", transport: "rest", code: "Unavailable", errorType: "errors/proxy_error" });
  });
});
