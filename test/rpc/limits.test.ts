import { create, toBinary, toJson } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AccountService, ConnectAccountRequestSchema, type ConnectAccountRequest } from "../../gen/postpress/accounts/v1/account_service_pb.js";
import { HARD_MESSAGE_CAP_BYTES, MAX_MESSAGE_BYTES } from "../../src/transport/limits.ts";
import { callRpc, connectJson, grpcUnary, WIRES, type Wire } from "../support/clients.ts";
import { startTestServer, type TestServer } from "../support/server.ts";

/** The 4 MiB message limit: just over is RESOURCE_EXHAUSTED errors/message_too_large on both transports; just under decodes. */

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

const connectAccount = AccountService.method.connectAccount;

/**
 * A Messenger session whose one header value makes the encoded message exactly `size` bytes.
 * Header values are capped at 8 KiB by validation, so a message this big can only ever be
 * refused: by the size limit (over 4 MiB) or by validation (under it).
 */
function sessionOfSize(size: number): ConnectAccountRequest {
  const make = (n: number) => create(ConnectAccountRequestSchema, { variant: { case: "messengerSession", value: { headers: { "x-big": "h".repeat(n) } } } });
  let n = size;
  for (let i = 0; i < 5; i++) {
    const got = toBinary(ConnectAccountRequestSchema, make(n)).byteLength;
    if (got === size) return make(n);
    n -= got - size;
  }
  throw new Error(`could not craft a message of ${size} bytes`);
}

function jsonOf(message: ConnectAccountRequest): string {
  return JSON.stringify(toJson(ConnectAccountRequestSchema, message));
}

describe("just over 4 MiB", () => {
  const over = sessionOfSize(MAX_MESSAGE_BYTES + 1);

  it("is crafted to be one byte over in binary and over in JSON", () => {
    expect(toBinary(ConnectAccountRequestSchema, over).byteLength).toBe(MAX_MESSAGE_BYTES + 1);
    expect(Buffer.byteLength(jsonOf(over))).toBeGreaterThan(MAX_MESSAGE_BYTES);
  });

  it.each(WIRES)("over %s → RESOURCE_EXHAUSTED errors/message_too_large with details", async (wire: Wire) => {
    const r = await callRpc(server, wire, connectAccount, over, { apiKey: server.apiKey });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.code).toBe(Code.ResourceExhausted);
    expect(r.error.errorInfoCount).toBe(1);
    expect(r.error.errorInfo?.reason).toBe("MESSAGE_TOO_LARGE");
    expect(r.error.errorInfo?.metadata.type).toBe("errors/message_too_large");
    expect(r.error.errorInfo?.metadata.httpStatus).toBe("413");
    expect(r.error.errorInfo?.metadata.limitBytes).toBe(String(MAX_MESSAGE_BYTES));
    expect(Number(r.error.errorInfo?.metadata.sizeBytes)).toBeGreaterThan(MAX_MESSAGE_BYTES);
    // Afterwards a normal call still works.
    expect((await callRpc(server, wire, AccountService.method.listAccounts, {}, { apiKey: server.apiKey })).ok).toBe(true);
  });
});

describe("just under 4 MiB", () => {
  const under = sessionOfSize(MAX_MESSAGE_BYTES - 1);

  it("binary exactly 4 MiB - 1 and JSON still under 4 MiB", () => {
    expect(toBinary(ConnectAccountRequestSchema, under).byteLength).toBe(MAX_MESSAGE_BYTES - 1);
  });

  it.each(WIRES)("over %s → decoded, then refused by validation (not RESOURCE_EXHAUSTED)", async (wire: Wire) => {
    // Connect JSON spends a few more bytes on names and quotes: trim the value to fit.
    const message = wire === "connect-json" ? sessionOfSize(MAX_MESSAGE_BYTES - 1 - (Buffer.byteLength(jsonOf(under)) - (MAX_MESSAGE_BYTES - 1))) : under;
    if (wire === "connect-json") expect(Buffer.byteLength(jsonOf(message))).toBe(MAX_MESSAGE_BYTES - 1);
    const r = await callRpc(server, wire, connectAccount, message, { apiKey: server.apiKey });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.code).toBe(Code.InvalidArgument);
    expect(r.error.errorInfo?.metadata.type).toBe("errors/invalid_parameters");
    expect(r.error.badRequest?.fieldViolations.map((v) => v.field).sort()).toEqual(["messenger_session.cookies", 'messenger_session.headers["x-big"]']);
  });
});

describe("past the 8 MiB hard cap", () => {
  const huge = toBinary(ConnectAccountRequestSchema, sessionOfSize(HARD_MESSAGE_CAP_BYTES + 1024));

  it("gRPC: RESOURCE_EXHAUSTED from the library, and the server keeps serving", async () => {
    const r = await grpcUnary(server.grpcAddress, connectAccount, huge, { "x-api-key": server.apiKey });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.code).toBe(Code.ResourceExhausted);
    expect((await callRpc(server, "grpc", AccountService.method.listAccounts, {}, { apiKey: server.apiKey })).ok).toBe(true);
  });

  it("Connect: RESOURCE_EXHAUSTED, and the server keeps serving", async () => {
    const r = await connectJson(server.httpUrl, connectAccount, huge, { "x-api-key": server.apiKey }, {}, "application/proto");
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.code).toBe(Code.ResourceExhausted);
    expect((await callRpc(server, "connect-binary", AccountService.method.listAccounts, {}, { apiKey: server.apiKey })).ok).toBe(true);
  });
});
