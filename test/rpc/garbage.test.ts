import { randomBytes } from "node:crypto";
import { connect as netConnect } from "node:net";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AccountService } from "../../gen/postpress/accounts/v1/account_service_pb.js";
import { callRpc, connectJson, grpcUnary, WIRES, type RpcFailure, type RpcResult } from "../support/clients.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import { envelope, grpcWebRaw, httpPost } from "./raw.ts";

/** Bodies that are not the RPC's message: INVALID_ARGUMENT errors/undecodable_request, and the server keeps serving. */

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

const connectAccount = AccountService.method.connectAccount;
const listAccounts = AccountService.method.listAccounts;
const url = () => `${server.httpUrl}/${AccountService.typeName}/ConnectAccount`;

/** Bytes that cannot be a ConnectAccountRequest. */
const garbage: [string, Uint8Array][] = [
  ["0xff × 64", new Uint8Array(64).fill(0xff)],
  ["a truncated length-delimited field", Uint8Array.from([0xa2, 0x01, 0x40, 0x41, 0x42])],
  ["an invalid wire type", Uint8Array.from([0x0f, 0x01])],
  ["a varint that never ends", new Uint8Array(12).fill(0x80)],
  ["random bytes after a bad tag", Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0x0f, ...randomBytes(256)])],
];

/** `violation`: the field a google.rpc.BadRequest violation must name (JSON that parses but is not the message); none otherwise. */
function expectUndecodable(r: RpcResult<unknown> | { ok: false; error: RpcFailure }, format?: "binary" | "json", violation?: string) {
  expect(r.ok).toBe(false);
  if (r.ok) return;
  expect(r.error.code).toBe(Code.InvalidArgument);
  expect(r.error.errorInfoCount).toBe(1);
  expect(r.error.errorInfo?.reason).toBe("UNDECODABLE_REQUEST");
  expect(r.error.errorInfo?.metadata.type).toBe("errors/undecodable_request");
  expect(r.error.errorInfo?.metadata.httpStatus).toBe("400");
  expect(r.error.errorInfo?.metadata.requestId).toBeTruthy();
  if (format) expect(r.error.errorInfo?.metadata.format).toBe(format);
  if (violation === undefined) expect(r.error.badRequest).toBeUndefined();
  else expect(r.error.badRequest?.fieldViolations.map((v) => v.field)).toEqual([violation]);
  expect(r.error.retryInfo).toBeUndefined();
}

/** A good call right after, over every wire: the server still serves. */
async function expectStillServing() {
  for (const wire of WIRES) {
    const r = await callRpc(server, wire, listAccounts, {}, { apiKey: server.apiKey });
    expect(r.ok, `${wire} after garbage`).toBe(true);
  }
}

const key = () => ({ "x-api-key": server.apiKey });

describe("garbage as a gRPC message", () => {
  it.each(garbage)("%s → undecodable_request", async (_name, bytes) => {
    expectUndecodable(await grpcUnary(server.grpcAddress, connectAccount, bytes, key()), "binary");
    await expectStillServing();
  });
  it("garbage to the read methods too", async () => {
    expectUndecodable(await grpcUnary(server.grpcAddress, AccountService.method.getAccount, new Uint8Array(16).fill(0xff), key()), "binary");
    expectUndecodable(await grpcUnary(server.grpcAddress, listAccounts, Uint8Array.from([0x08]), key()), "binary");
  });
  it("without a key, the caller's authentication is checked first", async () => {
    const r = await grpcUnary(server.grpcAddress, connectAccount, new Uint8Array(64).fill(0xff), {});
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.errorInfo?.metadata.type).toBe("errors/missing_api_key");
  });
});

describe("garbage as a Connect body", () => {
  it.each(garbage)("application/proto: %s → undecodable_request", async (_name, bytes) => {
    expectUndecodable(await connectJson(server.httpUrl, connectAccount, bytes, key(), {}, "application/proto"), "binary");
    await expectStillServing();
  });
  it.each([
    ["invalid JSON", "{not json", undefined],
    ["truncated JSON", '{"twitter": {"username": "anna"', undefined],
    ["not an object", "[1, 2, 3]", ""],
    ["a number", "42", ""],
    ["a string where a message goes", '{"twitter": "anna"}', "twitter"],
    ["a number where a string goes", '{"twitter": {"username": 5, "email": "a@b.co", "password": "p"}}', "twitter.username"],
    ["a string where a number goes", '{"mail": {"imapPort": "nine hundred"}}', "mail.imap_port"],
    ["a negative uint32", '{"mail": {"imapPort": -1}}', "mail.imap_port"],
    ["an unknown enum name", '{"mail": {"imapEncryption": "ROT13"}}', "mail.imap_encryption"],
    ["an unknown field", '{"twitter": {"username": "anna"}, "workspace_id": "ws_other"}', "workspace_id"],
    ["two variants of the oneof", '{"twitter": {"username": "anna"}, "telegram": {}}', "telegram"],
    ["invalid UTF-8", Uint8Array.from([0x7b, 0x22, 0x63, 0x6f, 0x75, 0x6e, 0x74, 0x72, 0x79, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]), undefined],
  ] as const)("application/json: %s → undecodable_request", async (_name, body, violation) => {
    expectUndecodable(await connectJson(server.httpUrl, connectAccount, body, key()), "json", violation);
    await expectStillServing();
  });
  it("the decode error names the bad field but never quotes its value", async () => {
    const r = await connectJson(server.httpUrl, connectAccount, '{"twitter": {"username": "anna", "email": "a@b.co", "password": 31415926535}}', key());
    expectUndecodable(r, "json", "twitter.password");
    if (r.ok) return;
    expect(r.error.errorInfo?.metadata.field).toMatch(/password/);
    expect(JSON.stringify(r.error)).not.toContain("31415926535");
    expect(server.logs.join("\n")).not.toContain("31415926535");
  });
});

describe("garbage as a gRPC-Web message", () => {
  it.each(garbage)("enveloped %s → undecodable_request", async (_name, bytes) => {
    const answer = await grpcWebRaw(server.httpUrl, connectAccount, envelope(bytes), key());
    expect(answer.httpStatus).toBe(200);
    expectUndecodable({ ok: false, error: answer.failure! }, "binary");
    await expectStillServing();
  });
  it.each([
    ["a length prefix longer than the body", envelope(Uint8Array.from([1, 2, 3]), 0, 1000)],
    ["a length prefix shorter than the body", envelope(Uint8Array.from([1, 2, 3]), 0, 1)],
    ["a compressed flag without an encoding", envelope(Uint8Array.from([0x0a, 0x00]), 1)],
    ["fewer than 5 bytes", Uint8Array.from([0, 0])],
  ] as const)("%s → undecodable_request", async (_name, body) => {
    const answer = await grpcWebRaw(server.httpUrl, connectAccount, body, key());
    expect(answer.failure?.code).toBe(Code.InvalidArgument);
    expect(answer.failure?.errorInfo?.metadata.type).toBe("errors/undecodable_request");
    expect(answer.failure?.errorInfoCount).toBe(1);
    await expectStillServing();
  });
});

describe("wrong content types and other strangers on the ports", () => {
  it.each(["text/plain", "application/x-www-form-urlencoded", "application/xml", "multipart/form-data; boundary=x"])(
    "%s on the Connect port → a clean 415 (or INVALID_ARGUMENT), no crash",
    async (contentType) => {
      const res = await httpPost(url(), contentType, "twitter=anna", key());
      expect([400, 415]).toContain(res.status);
      if (res.status === 400) expect(JSON.parse(res.text).code).toBe("invalid_argument");
      await expectStillServing();
    },
  );
  it("an unknown path on the Connect port is a 404", async () => {
    const res = await httpPost(`${server.httpUrl}/postpress.accounts.v1.AccountService/NoSuchMethod`, "application/json", "{}", key());
    expect(res.status).toBe(404);
    await expectStillServing();
  });
  it("a GET on the Connect port does not crash it", async () => {
    const res = await fetch(url());
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    await res.arrayBuffer();
    await expectStillServing();
  });
  it("HTTP/1.1 and raw junk on the gRPC port are refused without harm", async () => {
    await fetch(`http://${server.grpcAddress}/${AccountService.typeName}/ConnectAccount`, { method: "POST", body: "x" }).then(
      (res) => res.arrayBuffer(),
      () => undefined,
    );
    await new Promise<void>((resolve) => {
      const [host, port] = server.grpcAddress.split(":");
      const socket = netConnect(Number(port), host!, () => socket.end(randomBytes(4096)));
      socket.on("error", () => resolve());
      socket.on("close", () => resolve());
      socket.resume();
    });
    await expectStillServing();
  });
});
