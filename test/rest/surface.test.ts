/**
 * The REST surface around the connect call: API keys (X-API-KEY and Bearer, checked before the
 * body is read), body limits, get / list / delete, unknown routes, the OpenAPI document.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import * as http2 from "node:http2";
import { fileURLToPath } from "node:url";
import { Validator } from "@seriousme/openapi-schema-validator";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { AppError } from "../../src/errors/app-error.ts";
import { MAX_PAGE_SIZE } from "../../src/domain/accounts/accounts-service.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import { scriptedConnector, type ScriptedConnector } from "../support/test-connectors.ts";
import { expectProblem, openApiDocument, rest, restChecked } from "./support.ts";

let server: TestServer;
let connector: ScriptedConnector;
beforeAll(async () => {
  connector = scriptedConnector(["twitter"]);
  server = await startTestServer({ connectors: [connector] });
});
afterAll(() => server.close());

const twitter = (username: string) => ({ provider: "TWITTER", username, email: "anna@acme.com", password: "pw" });
const link = async (username: string, apiKey = server.apiKey) => {
  const r = await restChecked(server.httpUrl, "POST", "/api/v1/accounts", { body: twitter(username), apiKey });
  expect(r.status).toBe(201);
  return r.body.account_id as string;
};

describe("API keys", () => {
  it("X-API-KEY and Authorization: Bearer take the same keys", async () => {
    const id = await link(`key-${randomBytes(4).toString("hex")}`);
    const bearer = await rest(server.httpUrl, "GET", `/api/v1/accounts/${id}`, { headers: { authorization: `Bearer ${server.apiKey}` } });
    expect(bearer.status).toBe(200);
    expect(bearer.body.id).toBe(id);
  });
  it("no key: 401 errors/missing_api_key; an unknown key: 401 errors/invalid_api_key", async () => {
    expectProblem(await restChecked(server.httpUrl, "POST", "/api/v1/accounts", { body: twitter("anna") }, { requestValid: false }), 401, "errors/missing_api_key");
    expectProblem(await restChecked(server.httpUrl, "GET", "/api/v1/accounts", { apiKey: "ppa_nope" }), 401, "errors/invalid_api_key");
  });
  it("the key is checked before the body is read: no key and a 5 MiB body is 401, not 413", async () => {
    const r = await rest(server.httpUrl, "POST", "/api/v1/accounts", { body: JSON.stringify({ provider: "TWITTER", pad: "x".repeat(5 * 1024 * 1024) }) });
    expectProblem(r, 401, "errors/missing_api_key");
  });
  it("another workspace's account is 404, as a missing one", async () => {
    const id = await link(`iso-${randomBytes(4).toString("hex")}`);
    expectProblem(await restChecked(server.httpUrl, "GET", `/api/v1/accounts/${id}`, { apiKey: server.otherApiKey }), 404, "errors/not_found");
    expectProblem(await restChecked(server.httpUrl, "DELETE", `/api/v1/accounts/${id}`, { apiKey: server.otherApiKey }), 404, "errors/not_found");
  });
});

describe("bodies", () => {
  const post = (body: string, headers: Record<string, string> = {}) => rest(server.httpUrl, "POST", "/api/v1/accounts", { body, apiKey: server.apiKey, headers });
  it("over 4 MiB: 413 errors/message_too_large", async () => {
    expectProblem(await post(JSON.stringify({ ...twitter("big"), user_agent: "x".repeat(4 * 1024 * 1024) })), 413, "errors/message_too_large");
  });
  it("over 4 MiB sent chunked (no content-length): 413 errors/message_too_large, answered on the same connection", async () => {
    const chunk = new TextEncoder().encode(" ".repeat(64 * 1024));
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent === 0) controller.enqueue(new TextEncoder().encode('{"provider":"TWITTER"'));
        if (sent++ < 80) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const r = await fetch(`${server.httpUrl}/api/v1/accounts`, { method: "POST", headers: { "content-type": "application/json", "x-api-key": server.apiKey }, body, duplex: "half" } as RequestInit);
    expect(r.status).toBe(413);
    expect(((await r.json()) as { type: string }).type).toBe("errors/message_too_large");
  });
  it("nested deeper than the limit: 400 errors/undecodable_request, without parsing it", async () => {
    const r = await post(`{"provider":"TWITTER","x":${"[".repeat(100_000)}${"]".repeat(100_000)}}`);
    expectProblem(r, 400, "errors/undecodable_request");
    expect(r.body.detail).toMatch(/nested deeper than 16/);
  });
  it("not JSON, or not declared as JSON: 400 errors/undecodable_request, the text not quoted", async () => {
    const r = await post('{"provider": "TWITTER", "password": "PLANTED-secret"');
    expectProblem(r, 400, "errors/undecodable_request");
    expect(JSON.stringify(r.body)).not.toContain("PLANTED");
    expectProblem(await post(JSON.stringify(twitter("anna")), { "content-type": "text/plain" }), 400, "errors/undecodable_request");
  });
});

describe("get, list, delete", () => {
  it("list pages with cursor and limit, then ends with cursor null", async () => {
    const fresh = await startTestServer({ connectors: [scriptedConnector(["twitter"])] });
    try {
      const ids: string[] = [];
      for (const n of [1, 2, 3]) {
        const r = await restChecked(fresh.httpUrl, "POST", "/api/v1/accounts", { body: twitter(`page-${n}`), apiKey: fresh.apiKey });
        ids.push(r.body.account_id as string);
      }
      const first = await restChecked(fresh.httpUrl, "GET", "/api/v1/accounts?limit=2&provider=TWITTER", { apiKey: fresh.apiKey });
      expect(first.status).toBe(200);
      expect((first.body.items as { id: string }[]).map((a) => a.id)).toEqual(ids.slice(0, 2));
      expect(first.body.cursor).toEqual(expect.any(String));
      const second = await restChecked(fresh.httpUrl, "GET", `/api/v1/accounts?limit=2&cursor=${first.body.cursor as string}`, { apiKey: fresh.apiKey });
      expect((second.body.items as { id: string }[]).map((a) => a.id)).toEqual(ids.slice(2));
      expect(second.body.cursor).toBeNull();
      const none = await restChecked(fresh.httpUrl, "GET", "/api/v1/accounts?status=DELETED", { apiKey: fresh.apiKey });
      expect(none.body.items).toEqual([]);
    } finally {
      await fresh.close();
    }
  });
  it(`limit over ${MAX_PAGE_SIZE}: 400 errors/limit_too_high`, async () => {
    const r = await restChecked(server.httpUrl, "GET", `/api/v1/accounts?limit=${MAX_PAGE_SIZE + 1}`, { apiKey: server.apiKey }, { requestValid: false });
    expectProblem(r, 400, "errors/limit_too_high");
  });
  it.each([
    ["limit=ten", "limit"],
    ["cursor=not-a-cursor", "cursor"],
    ["provider=linkedin", "provider"],
    ["status=ACTIVE", "status"],
  ])("?%s: 400 errors/invalid_parameters naming %s", async (query, field) => {
    const r = await restChecked(server.httpUrl, "GET", `/api/v1/accounts?${query}`, { apiKey: server.apiKey }, { requestValid: false });
    expectProblem(r, 400, "errors/invalid_parameters");
    expect(r.body.invalid_params).toEqual([{ name: field, reason: expect.any(String) }]);
  });
  it("delete answers the account DELETED, twice alike; get then shows it DELETED", async () => {
    const id = await link(`del-${randomBytes(4).toString("hex")}`);
    for (let i = 0; i < 2; i++) {
      const r = await restChecked(server.httpUrl, "DELETE", `/api/v1/accounts/${id}`, { apiKey: server.apiKey });
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ object: "AccountDeleted", account_id: id, account: { id, status: "DELETED" } });
    }
    expect((await restChecked(server.httpUrl, "GET", `/api/v1/accounts/${id}`, { apiKey: server.apiKey })).body.status).toBe("DELETED");
  });
  it("an unknown id is 404 errors/not_found; an over-long one 400 naming id twice (bound and pattern); a bad escape 400 errors/unescaped_characters", async () => {
    expectProblem(await restChecked(server.httpUrl, "GET", "/api/v1/accounts/acc_01HXYZ4QK3WJ8FN3M6QH7TZ8GR", { apiKey: server.apiKey }), 404, "errors/not_found");
    const long = await restChecked(server.httpUrl, "GET", `/api/v1/accounts/${"a".repeat(65)}`, { apiKey: server.apiKey }, { requestValid: false });
    expectProblem(long, 400, "errors/invalid_parameters");
    // Both of the proto's rules on account_id: its bound and its acc_<ULID> pattern.
    expect(long.body.invalid_params).toEqual([
      { name: "id", reason: expect.stringContaining("64") },
      { name: "id", reason: expect.stringContaining("pattern") },
    ]);
    expectProblem(await rest(server.httpUrl, "GET", "/api/v1/accounts/%E0%A4%A", { apiKey: server.apiKey }), 400, "errors/unescaped_characters");
  });
});

describe("cancellation", () => {
  it("a caller that goes away cancels the domain call: the connector's signal aborts with request_canceled", async () => {
    const before = connector.calls.length;
    const controller = new AbortController();
    const pending = fetch(`${server.httpUrl}/api/v1/accounts`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": server.apiKey },
      body: JSON.stringify(twitter("wait")),
      signal: controller.signal,
    }).catch((e: unknown) => e);
    await vi.waitFor(() => expect(connector.calls.length).toBe(before + 1), { timeout: 10_000, interval: 20 });
    controller.abort();
    await vi.waitFor(() => expect(connector.calls[before]!.outcome).toBe("aborted"), { timeout: 10_000, interval: 20 });
    const reason = connector.calls[before]!.abortReason;
    expect(reason instanceof AppError ? reason.kind : reason).toBe("request_canceled");
    expect(await pending).toBeInstanceOf(Error);
  });
});

describe("routes", () => {
  it("an unknown route is 404 problem details; a known path with another method says which it answers", async () => {
    expectProblem(await rest(server.httpUrl, "GET", "/api/v1/chats", { apiKey: server.apiKey }), 404, "errors/not_found");
    const r = await rest(server.httpUrl, "PUT", "/api/v1/accounts", { apiKey: server.apiKey, body: {} });
    expectProblem(r, 404, "errors/not_found");
    expect(r.headers.get("allow")).toBe("POST, GET");
  });
  it("reconnect (POST /api/v1/accounts/{id}) validates the flat body first, then an unknown account is 404", async () => {
    expectProblem(await rest(server.httpUrl, "POST", "/api/v1/accounts/acc_01HXYZ4QK3WJ8FN3M6QH7TZ8GR", { apiKey: server.apiKey, body: {} }), 400, "errors/missing_parameters");
    const body = { provider: "LINKEDIN", username: "anna@acme.com", password: "pw" };
    expectProblem(await rest(server.httpUrl, "POST", "/api/v1/accounts/acc_01HXYZ4QK3WJ8FN3M6QH7TZ8GR", { apiKey: server.apiKey, body }), 404, "errors/not_found");
  });
  it("over cleartext HTTP/2 (prior knowledge) too", async () => {
    const client = http2.connect(server.httpUrl);
    try {
      const req = client.request({ ":method": "GET", ":path": "/api/v1/accounts/acc_01HXYZ4QK3WJ8FN3M6QH7TZ8GR", "x-api-key": server.apiKey });
      req.end();
      const [headers, text] = await new Promise<[http2.IncomingHttpHeaders, string]>((resolve, reject) => {
        let headers: http2.IncomingHttpHeaders = {};
        const chunks: Buffer[] = [];
        req.on("response", (h) => (headers = h));
        req.on("data", (d: Buffer) => chunks.push(d));
        req.on("end", () => resolve([headers, Buffer.concat(chunks).toString("utf8")]));
        req.on("error", reject);
      });
      expect(headers[":status"]).toBe(404);
      expect(headers["content-type"]).toBe("application/problem+json");
      expect((JSON.parse(text) as { type: string }).type).toBe("errors/not_found");
    } finally {
      client.close();
    }
  });
  it("Connect still answers beside REST on the same port", async () => {
    const r = await fetch(`${server.httpUrl}/postpress.accounts.v1.AccountService/ListAccounts`, { method: "POST", headers: { "content-type": "application/json", "x-api-key": server.apiKey }, body: "{}" });
    expect(r.status).toBe(200);
  });
});

describe("the OpenAPI document", () => {
  it("is valid OpenAPI 3.1", async () => {
    const result = await new Validator().validate(openApiDocument() as unknown as Record<string, unknown>);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(openApiDocument().openapi).toMatch(/^3\.1\./);
  });
  it("every operation it documents is a route the server answers (without a key: 401 before anything else)", async () => {
    const operations = Object.entries(openApiDocument().paths ?? {}).flatMap(([path, item]) =>
      Object.entries(item ?? {}).map(([method, op]) => ({ method: method.toUpperCase(), path: path.replace("{id}", "acc_01HXYZ4QK3WJ8FN3M6QH7TZ8GR"), open: (op as { security?: unknown[] }).security?.length === 0 })),
    );
    expect(operations.length).toBe(8);
    for (const op of operations) {
      const r = await rest(server.httpUrl, op.method, op.path, op.method === "POST" ? { body: {} } : {});
      if (op.open) expect(r.status, `${op.method} ${op.path}`).toBe(200);
      else expect({ op, type: r.body.type }).toEqual({ op, type: "errors/missing_api_key" });
    }
  });
  it("is served at /api/v1/openapi.json, byte for byte the repository's, without an API key", async () => {
    const r = await fetch(`${server.httpUrl}/api/v1/openapi.json`);
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toBe("application/json");
    expect(await r.text()).toBe(readFileSync(fileURLToPath(new URL("../../docs/openapi.json", import.meta.url)), "utf8"));
  });
  it("the validator refuses what the document does not allow (the checks can fail)", async () => {
    const { expectConforms } = await import("./support.ts");
    const wrong = { status: 201, contentType: "application/json", headers: new Headers(), body: { object: "AccountCreated" } };
    await expect(expectConforms("POST", "/api/v1/accounts", { body: twitter("anna") }, wrong)).rejects.toThrow(/conforms/);
    const badRequest = { status: 201, contentType: "application/json", headers: new Headers(), body: { object: "AccountCreated", account_id: "acc_01HXYZ4QK3WJ8FN3M6QH7TZ8GR" } };
    await expect(expectConforms("POST", "/api/v1/accounts", { body: { provider: "TWITTER", username: "anna" } }, badRequest)).rejects.toThrow(/conforms/);
    const badProblem = { status: 400, contentType: "application/problem+json", headers: new Headers(), body: { type: "errors/invalid_parameters", status: 400 } };
    await expect(expectConforms("GET", "/api/v1/accounts", {}, badProblem)).rejects.toThrow(/conforms/);
  });
});
