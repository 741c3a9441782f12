import { execFile } from "node:child_process";
import { request as httpRequest } from "node:http";
import * as http2 from "node:http2";
import * as grpc from "@grpc/grpc-js";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AccountService } from "../../gen/postpress/accounts/v1/account_service_pb.js";
import { callRpc, failureFromStatus } from "../support/clients.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import { scriptedConnector, type ScriptedConnector } from "../support/test-connectors.ts";

/** Issue 12.8: a header sent twice is refused whichever it is; auth_in_progress hints a short backoff. */

let server: TestServer;
let connector: ScriptedConnector;
beforeAll(async () => {
  connector = scriptedConnector(["twitter"]);
  server = await startTestServer({ connectors: [connector], intentTtlMs: 120_000 });
});
afterAll(() => server.close());

const LIST_PATH = `/${AccountService.typeName}/${AccountService.method.listAccounts.name}`;

/** ListAccounts over Connect JSON on HTTP/1.1 with headers exactly as given (repeated names stay repeated). */
function http1(rawHeaders: string[]): Promise<{ status: number; body: { code?: string; message?: string } }> {
  const url = new URL(server.httpUrl);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, method: "POST", path: LIST_PATH, headers: ["host", url.host, "content-type", "application/json", ...rawHeaders] }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString() || "{}") as { code?: string; message?: string } }));
    });
    req.on("error", reject);
    req.end("{}");
  });
}

/** The same over HTTP/2 (h2c prior knowledge); node:http2 takes a repeated header as an array. */
function http2Call(headers: http2.OutgoingHttpHeaders, route = { method: "POST", path: LIST_PATH }): Promise<{ status: number; body: { code?: string; message?: string; type?: string } }> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(server.httpUrl);
    session.on("error", reject);
    const req = session.request({ ":method": route.method, ":path": route.path, ...(route.method === "GET" ? {} : { "content-type": "application/json" }), ...headers });
    const chunks: Buffer[] = [];
    let status = 0;
    req.on("response", (h) => (status = Number(h[":status"])));
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      session.close();
      resolve({ status, body: JSON.parse(Buffer.concat(chunks).toString() || "{}") as { code?: string; message?: string } });
    });
    req.on("error", reject);
    req.end(route.method === "GET" ? undefined : "{}");
  });
}

/** ListAccounts over native gRPC with metadata entries added one by one (a name may repeat). */
function grpcWith(entries: Array<[string, string]>) {
  const client = new grpc.Client(server.grpcAddress, grpc.credentials.createInsecure());
  const metadata = new grpc.Metadata();
  for (const [k, v] of entries) metadata.add(k, v);
  return new Promise<ReturnType<typeof failureFromStatus> | "ok">((resolve) => {
    client.makeUnaryRequest(LIST_PATH, (b: Buffer) => b, (b: Buffer) => b, Buffer.alloc(0), metadata, (err) => {
      client.close();
      resolve(err ? failureFromStatus(err.code as number, err.details, err.metadata.get("grpc-status-details-bin")[0]) : "ok");
    });
  });
}

describe("a credential header sent twice is refused, like a doubled x-api-key", () => {
  const refusal = { status: 401, body: { code: "unauthenticated" } };

  it("over HTTP/1.1: authorization twice (even the same valid key), x-api-key twice", async () => {
    const bearer = `Bearer ${server.apiKey}`;
    expect(await http1(["authorization", bearer])).toMatchObject({ status: 200 });
    expect(await http1(["x-api-key", server.apiKey])).toMatchObject({ status: 200 });

    const twiceAuth = await http1(["authorization", bearer, "authorization", bearer]);
    expect(twiceAuth).toMatchObject(refusal);
    expect(twiceAuth.body.message).toContain("The authorization header was sent more than once.");
    expect(await http1(["authorization", bearer, "authorization", `Bearer ${server.otherApiKey}`])).toMatchObject(refusal);
    const twiceKey = await http1(["x-api-key", server.apiKey, "x-api-key", server.apiKey]);
    expect(twiceKey).toMatchObject(refusal);
    expect(twiceKey.body.message).toContain("The x-api-key header was sent more than once.");
  });

  it("over HTTP/2: x-api-key twice", async () => {
    expect(await http2Call({ "x-api-key": server.apiKey })).toMatchObject({ status: 200 });
    expect(await http2Call({ "x-api-key": [server.apiKey, server.apiKey] })).toMatchObject(refusal);
  });

  it("over HTTP/2 on the REST API: x-api-key twice", async () => {
    const accounts = { method: "GET", path: "/api/v1/accounts" };
    expect(await http2Call({ "x-api-key": server.apiKey }, accounts)).toMatchObject({ status: 200 });
    const twice = await http2Call({ "x-api-key": [server.apiKey, server.apiKey] }, accounts);
    expect(twice).toMatchObject({ status: 401 });
    expect(JSON.stringify(twice.body)).toContain("The x-api-key header was sent more than once.");
  });

  it("over HTTP/2: authorization twice, which node:http2 alone would reduce to the first (sent with curl: Node's client refuses to)", async () => {
    const curl = (...headers: string[]) =>
      new Promise<{ code?: string; message?: string }>((resolve, reject) =>
        execFile("curl", ["-s", "--http2-prior-knowledge", "-H", "content-type: application/json", ...headers.flatMap((h) => ["-H", h]), "-d", "{}", `${server.httpUrl}${LIST_PATH}`], (error, stdout) =>
          error ? reject(error) : resolve(JSON.parse(stdout) as { code?: string; message?: string }),
        ),
      );
    expect(await curl(`authorization: Bearer ${server.apiKey}`)).not.toHaveProperty("code");
    const twice = await curl(`authorization: Bearer ${server.apiKey}`, `authorization: Bearer ${server.otherApiKey}`);
    expect(twice).toMatchObject({ code: "unauthenticated" });
    expect(twice.message).toContain("The authorization header was sent more than once.");
  });

  it("over native gRPC: x-api-key twice", async () => {
    expect(await grpcWith([["x-api-key", server.apiKey]])).toBe("ok");
    const twice = await grpcWith([["x-api-key", server.apiKey], ["x-api-key", server.apiKey]]);
    expect(twice !== "ok" && { code: twice.code, type: twice.errorInfo?.metadata.type }).toEqual({ code: Code.Unauthenticated, type: "errors/invalid_api_key" });
  });
});

describe("auth_in_progress", () => {
  it("hints a retry within a couple of seconds, while metadata keeps when the holding intent expires at the latest", async () => {
    const request = (password: string) => ({ variant: { case: "twitter" as const, value: { username: "retry-hint", email: "anna@acme.com", password } } });
    const holder = callRpc(server, "grpc", AccountService.method.connectAccount, request("sleep:1500"), { apiKey: server.apiKey });
    // The holder's intent is open once its connector runs.
    while (!connector.calls.some((call) => call.command === "sleep:1500")) await new Promise((resolve) => setTimeout(resolve, 10));
    const second = await callRpc(server, "connect-json", AccountService.method.connectAccount, request("pw"), { apiKey: server.apiKey });
    if (second.ok) throw new Error("expected auth_in_progress");
    expect(second.error.errorInfo?.metadata.type).toBe("errors/auth_in_progress");
    expect(second.error.code).toBe(Code.Aborted);
    const delay = second.error.retryInfo?.retryDelay;
    const delayMs = Number(delay?.seconds ?? 0n) * 1000 + (delay?.nanos ?? 0) / 1e6;
    expect(delayMs).toBeGreaterThan(0);
    expect(delayMs).toBeLessThanOrEqual(2_000);
    const expiresInMs = Date.parse(second.error.errorInfo?.metadata.expireTime ?? "") - Date.now();
    expect(expiresInMs).toBeGreaterThan(60_000);
    expect((await holder).ok).toBe(true);
  });
});
