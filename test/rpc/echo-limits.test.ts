import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AccountService } from "../../gen/postpress/accounts/v1/account_service_pb.js";
import { callRpc, WIRES } from "../support/clients.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import type { ConnectInit } from "./examples.ts";

/**
 * Issue 12.5: an error never echoes more than a short prefix of what the caller sent. Before,
 * a 1 MiB header name came back whole (a 3.5 MB answer; over gRPC the trailers overflowed and
 * the client saw INTERNAL "Protocol error"), and a 3.9 MB twitter.email was accepted.
 */

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

const connectAccount = AccountService.method.connectAccount;
const MiB = 1024 * 1024;

const withHeader = (name: string, value: string): ConnectInit => ({
  variant: { case: "messengerSession", value: { cookies: [{ name: "c_user", value: "1" }], headers: { [name]: value } } },
});

/** The size of what a caller reads back: message and every detail. */
function answerSize(error: { message: string; errorInfo?: { metadata: Record<string, string> }; badRequest?: { fieldViolations: Array<{ field: string; description: string }> } }): number {
  return JSON.stringify({ message: error.message, metadata: error.errorInfo?.metadata, violations: error.badRequest?.fieldViolations }).length;
}

describe.each(WIRES)("over %s", (wire) => {
  it("a 1 MiB header name answers invalid_parameters with the name cut to a short prefix", async () => {
    const name = `x-${"k".repeat(MiB)}`;
    const r = await callRpc(server, wire, connectAccount, withHeader(name, "v"), { apiKey: server.apiKey });
    if (r.ok) throw new Error("expected a validation failure");
    expect(r.error.code).toBe(Code.InvalidArgument);
    expect(r.error.errorInfo?.metadata.type).toBe("errors/invalid_parameters");
    const [violation] = r.error.badRequest?.fieldViolations ?? [];
    expect(violation?.field.startsWith('messenger_session.headers["x-kkk')).toBe(true);
    expect(violation?.field.endsWith("…")).toBe(true);
    expect(violation?.field.length).toBeLessThanOrEqual(65);
    expect(answerSize(r.error)).toBeLessThan(4096);
  });

  it("a 1 MiB header value and a 3.9 MB twitter.email are refused, and not echoed", async () => {
    const value = await callRpc(server, wire, connectAccount, withHeader("x-fb-lsd", "v".repeat(MiB)), { apiKey: server.apiKey });
    if (value.ok) throw new Error("expected a validation failure");
    expect(value.error.badRequest?.fieldViolations.map((v) => v.field)).toEqual(['messenger_session.headers["x-fb-lsd"]']);

    const email = `${"a".repeat(3_900_000)}@acme.com`;
    const twitter = await callRpc(server, wire, connectAccount, { variant: { case: "twitter", value: { username: "anna", email, password: "pw" } } }, { apiKey: server.apiKey });
    if (twitter.ok) throw new Error("expected a validation failure");
    expect(twitter.error.errorInfo?.metadata.type).toBe("errors/invalid_parameters");
    expect(twitter.error.badRequest?.fieldViolations.map((v) => v.field)).toEqual(["twitter.email"]);
    for (const r of [value, twitter]) expect(answerSize(r.error)).toBeLessThan(4096);
  });

  it("hundreds of broken rules list a bounded number of violations and say how many more", async () => {
    const headers = Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`x-${i}-${"h".repeat(300)}`, "v".repeat(9000)]));
    const cookies = Array.from({ length: 200 }, () => ({ name: "n".repeat(300), value: "v".repeat(9000), domain: "d".repeat(300) }));
    const r = await callRpc(server, wire, connectAccount, { variant: { case: "messengerSession", value: { cookies, headers } } }, { apiKey: server.apiKey });
    if (r.ok) throw new Error("expected a validation failure");
    expect(r.error.code).toBe(Code.InvalidArgument);
    expect(r.error.badRequest?.fieldViolations).toHaveLength(16);
    expect(r.error.message.length).toBeLessThanOrEqual(513);
    expect(answerSize(r.error)).toBeLessThan(8192);
  });
});
