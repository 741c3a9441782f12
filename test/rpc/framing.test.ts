import * as http2 from "node:http2";
import { create, toBinary } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AccountService, ListAccountsRequestSchema } from "../../gen/postpress/accounts/v1/account_service_pb.js";
import { failureFromStatus, type RpcFailure } from "../support/clients.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import { envelope } from "./raw.ts";

/**
 * Issue 12, item 7: framing mistakes are the client's. Before, a Connect streaming request with
 * an unknown connect-content-encoding answered INTERNAL unexpected_error with an error-level
 * stack trace, truncated, empty or doubled gRPC frames answered UNIMPLEMENTED without
 * ErrorInfo, and any failure reading a body was message_too_large.
 */

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

const listPath = `/${AccountService.typeName}/ListAccounts`;
const oneMessage = envelope(toBinary(ListAccountsRequestSchema, create(ListAccountsRequestSchema, { pageSize: 5 })));

/** One native gRPC call with a body written as-is, read down to its status and details. */
function rawGrpc(body: Uint8Array, headers: Record<string, string> = {}): Promise<RpcFailure | undefined> {
  const session = http2.connect(`http://${server.grpcAddress}`);
  session.on("error", () => {});
  return new Promise((resolve, reject) => {
    const stream = session.request({ ":method": "POST", ":path": listPath, "content-type": "application/grpc", te: "trailers", "x-api-key": server.apiKey, ...headers });
    const fields: Record<string, string> = {};
    const keep = (h: http2.IncomingHttpHeaders) => {
      for (const [k, v] of Object.entries(h)) if (typeof v === "string") fields[k] = v;
    };
    stream.on("response", keep);
    stream.on("trailers", keep);
    stream.on("error", reject);
    stream.resume();
    stream.on("close", () => {
      session.close();
      const status = Number(fields["grpc-status"]);
      if (status === 0) return resolve(undefined);
      const details = fields["grpc-status-details-bin"];
      resolve(failureFromStatus(status, decodeURIComponent(fields["grpc-message"] ?? ""), details ? Buffer.from(details, "base64") : undefined));
    });
    stream.end(body);
  });
}

function expectClientError(failure: RpcFailure | undefined, code: Code, type: string) {
  expect(failure?.code).toBe(code);
  expect(failure?.errorInfoCount).toBe(1);
  expect(failure?.errorInfo?.metadata.type).toBe(type);
  expect(failure?.errorInfo?.metadata.requestId).toBeTruthy();
}

const errorLevelLines = () => server.logs.filter((l) => (JSON.parse(l) as { level: number }).level >= 50);

describe("native gRPC frames", () => {
  it("a well-formed frame is answered (the raw client works)", async () => {
    expect(await rawGrpc(oneMessage)).toBeUndefined();
  });

  it.each([
    ["an empty body (no frame)", new Uint8Array(0)],
    ["two frames for a unary method", Buffer.concat([oneMessage, oneMessage])],
    ["a truncated frame (declares 100 bytes, sends 3)", envelope(Uint8Array.from([8, 5, 0]), 0, 100)],
    ["a frame header cut short", Uint8Array.from([0, 0, 0])],
  ])("%s → INVALID_ARGUMENT errors/undecodable_request with ErrorInfo", async (_name, body) => {
    expectClientError(await rawGrpc(body), Code.InvalidArgument, "errors/undecodable_request");
    expect(errorLevelLines()).toEqual([]);
  });

  it("a frame compressed with an unknown grpc-encoding → UNIMPLEMENTED errors/unsupported_encoding with ErrorInfo", async () => {
    expectClientError(await rawGrpc(envelope(Uint8Array.from([1, 2, 3]), 1), { "grpc-encoding": "snappy" }), Code.Unimplemented, "errors/unsupported_encoding");
    expect(errorLevelLines()).toEqual([]);
  });
});

describe("Connect encodings", () => {
  it("a Connect streaming request with an unknown connect-content-encoding → UNIMPLEMENTED errors/unsupported_encoding, in the end-stream message", async () => {
    const res = await fetch(`${server.httpUrl}/${AccountService.typeName}/WatchAccount`, {
      method: "POST",
      headers: { "content-type": "application/connect+json", "connect-protocol-version": "1", "connect-content-encoding": "snappy", "x-api-key": server.apiKey },
      body: envelope(new TextEncoder().encode('{"accountId":"acc_01HXYZ4QK3WJ8FN3M6QH7TZ8GR"}'), 1),
    });
    const bytes = new Uint8Array(await res.arrayBuffer());
    const endStream = JSON.parse(new TextDecoder().decode(bytes.subarray(5))) as { error: { code: string; details: { type: string; debug?: unknown }[] } };
    expect(bytes[0]! & 0b10).toBe(0b10);
    expect(endStream.error.code).toBe("unimplemented");
    expect(endStream.error.details.map((d) => d.type)).toContain("google.rpc.ErrorInfo");
    expect(server.logs.some((l) => l.includes('"errorType":"errors/unsupported_encoding"'))).toBe(true);
    expect(errorLevelLines()).toEqual([]);
  });

  it("a unary request with an unknown content-encoding → errors/unsupported_encoding", async () => {
    const res = await fetch(`${server.httpUrl}${listPath}`, {
      method: "POST",
      headers: { "content-type": "application/json", "content-encoding": "snappy", "x-api-key": server.apiKey },
      body: "{}",
    });
    const body = JSON.parse(await res.text()) as { code: string };
    expect(body.code).toBe("unimplemented");
    expect(errorLevelLines()).toEqual([]);
  });
});

describe("a body that ends abnormally", () => {
  it("a client that cancels mid-body is logged as a cancellation, not message_too_large", async () => {
    const session = http2.connect(server.httpUrl);
    session.on("error", () => {});
    const stream = session.request({ ":method": "POST", ":path": listPath, "content-type": "application/json", "content-length": "1000", "x-api-key": server.apiKey });
    stream.on("error", () => {});
    stream.write('{"pageSize":');
    await new Promise((resolve) => setTimeout(resolve, 200));
    stream.close(http2.constants.NGHTTP2_CANCEL);
    const deadline = Date.now() + 5000;
    const cancelled = () => server.logs.some((l) => l.includes('"method":"ListAccounts"') && l.includes('"errorType":"errors/request_canceled"'));
    while (!cancelled() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    session.destroy();
    expect(cancelled()).toBe(true);
    expect(server.logs.some((l) => l.includes('"errorType":"errors/message_too_large"'))).toBe(false);
  });
});
