import * as grpc from "@grpc/grpc-js";
import { create, toBinary } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AccountService, ListAccountsRequestSchema } from "../../gen/postpress/accounts/v1/account_service_pb.js";
import { startTestServer, type TestServer } from "../support/server.ts";

const { listAccounts } = AccountService.method;
const PATH = `/${AccountService.typeName}/${listAccounts.name}`;

/** Every answer carries x-request-id in its headers, on success and on error, on both ports. */
describe("x-request-id response header", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server?.close());

  /** A raw grpc-js call: the response's initial metadata and its status code. */
  function grpcCall(headers: Record<string, string>): Promise<{ requestId: string | undefined; code: number }> {
    const client = new grpc.Client(server.grpcAddress, grpc.credentials.createInsecure());
    const metadata = new grpc.Metadata();
    for (const [k, v] of Object.entries(headers)) metadata.set(k, v);
    let requestId: string | undefined;
    return new Promise((resolve) => {
      const call = client.makeUnaryRequest(PATH, (b: Uint8Array) => Buffer.from(b), (b: Buffer) => b, toBinary(ListAccountsRequestSchema, create(ListAccountsRequestSchema)), metadata, (err) => {
        client.close();
        resolve({ requestId, code: err?.code ?? grpc.status.OK });
      });
      call.on("metadata", (md: grpc.Metadata) => {
        requestId = md.get("x-request-id")[0] as string | undefined;
      });
    });
  }

  async function httpCall(contentType: string, body: string | Uint8Array, headers: Record<string, string>) {
    const res = await fetch(`${server.httpUrl}${PATH}`, { method: "POST", headers: { "content-type": contentType, ...headers }, body });
    // gRPC-Web over HTTP/1.1 sends its status in a trailer frame at the end of the body.
    const text = Buffer.from(await res.arrayBuffer()).toString("latin1");
    return { requestId: res.headers.get("x-request-id") ?? undefined, status: res.status, body: text };
  }
  const emptyEnvelope = new Uint8Array(5);

  it("gRPC: on success and on error, a fresh id or the caller's", async () => {
    const ok = await grpcCall({ "x-api-key": server.apiKey });
    expect(ok.code).toBe(grpc.status.OK);
    expect(ok.requestId).toMatch(/^\w{10,}$/);
    const denied = await grpcCall({});
    expect(denied.code).toBe(grpc.status.UNAUTHENTICATED);
    expect(denied.requestId).toMatch(/^\w{10,}$/);
    expect(denied.requestId).not.toBe(ok.requestId);
    expect((await grpcCall({ "x-api-key": server.apiKey, "x-request-id": "caller-chosen-1" })).requestId).toBe("caller-chosen-1");
    expect((await grpcCall({ "x-request-id": "caller-chosen-2" })).requestId).toBe("caller-chosen-2");
  });

  it("Connect JSON and gRPC-Web: on success and on error, a fresh id or the caller's", async () => {
    const ok = await httpCall("application/json", "{}", { "x-api-key": server.apiKey });
    expect(ok.status).toBe(200);
    expect(ok.requestId).toMatch(/^\w{10,}$/);
    const denied = await httpCall("application/json", "{}", {});
    expect(denied.status).toBe(401);
    expect(denied.requestId).toMatch(/^\w{10,}$/);
    expect((await httpCall("application/json", "{}", { "x-request-id": "caller-chosen-3" })).requestId).toBe("caller-chosen-3");

    const webOk = await httpCall("application/grpc-web+proto", emptyEnvelope, { "x-api-key": server.apiKey, "x-request-id": "caller-chosen-4" });
    expect(webOk.requestId).toBe("caller-chosen-4");
    const webDenied = await httpCall("application/grpc-web+proto", emptyEnvelope, {});
    expect(webDenied.body).toMatch(new RegExp(`grpc-status: ?${grpc.status.UNAUTHENTICATED}\\r\\n`));
    expect(webDenied.requestId).toMatch(/^\w{10,}$/);
  });

  it("the id in the header is the one in the log line", async () => {
    const { requestId } = await httpCall("application/json", "{}", { "x-api-key": server.apiKey });
    const line = server.logs.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === "rpc" && l.requestId === requestId);
    expect(line).toMatchObject({ method: "ListAccounts", transport: "connect", code: "OK" });
  });
});
