import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AccountService } from "../../gen/postpress/accounts/v1/account_service_pb.js";
import { callRpc, WIRES, type RpcFailure, type Wire } from "../support/clients.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import { scriptedConnector } from "../support/test-connectors.ts";
import { validRequest, type ConnectInit } from "./examples.ts";

/** The same failing request over gRPC, gRPC-Web, Connect binary and Connect JSON answers the same error. */

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ connectors: [scriptedConnector(["twitter"])] });
});
afterAll(() => server.close());

/** Everything a client sees of an error except the request id, in a comparable form. */
function comparable(e: RpcFailure) {
  const { requestId, ...metadata } = e.errorInfo?.metadata ?? {};
  return {
    code: Code[e.code],
    message: e.message,
    errorInfoCount: e.errorInfoCount,
    errorInfo: e.errorInfo && { reason: e.errorInfo.reason, domain: e.errorInfo.domain, metadata },
    hasRequestId: typeof requestId === "string" && requestId.length > 0,
    badRequest: e.badRequest?.fieldViolations.map((v) => ({ field: v.field, description: v.description, reason: v.reason })),
    retryDelay: e.retryInfo && { seconds: String(e.retryInfo.retryDelay?.seconds), nanos: e.retryInfo.retryDelay?.nanos },
  };
}

async function failureOver(wire: Wire, request: ConnectInit, apiKey: string | undefined, headers: Record<string, string> = {}): Promise<RpcFailure> {
  const r = await callRpc(server, wire, AccountService.method.connectAccount, request, { ...(apiKey ? { apiKey } : {}), headers });
  if (r.ok) throw new Error(`over ${wire}: the call succeeded`);
  return r.error;
}

const twitter = (value: Record<string, unknown>, shared: Record<string, unknown> = {}) =>
  ({ ...shared, variant: { case: "twitter", value: { username: "anna", email: "anna@acme.com", password: "pw", ...value } } }) as ConnectInit;

const cases: [string, ConnectInit, boolean, Code, string][] = [
  ["several bad fields (country, ip, email)", twitter({ email: "nope" }, { country: "FRA", ip: "1.2.3" }), true, Code.InvalidArgument, "errors/invalid_parameters"],
  ["missing fields", twitter({ username: "", password: "" }), true, Code.InvalidArgument, "errors/missing_parameters"],
  ["a nested bad field with an index", ({ variant: { case: "messengerSession", value: { cookies: [{ name: "a", value: "" }, { name: "", value: "b" }], headers: { "": "v" } } } } as ConnectInit), true, Code.InvalidArgument, "errors/invalid_parameters"],
  ["no connector for the variant", validRequest("mail"), true, Code.Unimplemented, "errors/feature_not_implemented"],
  ["a retryable provider error (RetryInfo)", twitter({ username: "throw:provider_error" }), true, Code.Unavailable, "errors/provider_error"],
  ["no API key", twitter({ email: "nope" }), false, Code.Unauthenticated, "errors/missing_api_key"],
];

describe.each(cases)("%s", (_name, request, withKey, code, type) => {
  it("answers the same code, ErrorInfo (but requestId) and BadRequest on every wire", async () => {
    const seen = new Map<Wire, ReturnType<typeof comparable>>();
    const requestIds = new Set<string>();
    for (const wire of WIRES) {
      const e = await failureOver(wire, request, withKey ? server.apiKey : undefined);
      seen.set(wire, comparable(e));
      requestIds.add(e.errorInfo?.metadata.requestId ?? "");
    }
    const reference = seen.get("grpc")!;
    expect(reference.code).toBe(Code[code]);
    expect(reference.errorInfo?.metadata.type).toBe(type);
    expect(reference.errorInfoCount).toBe(1);
    expect(reference.hasRequestId).toBe(true);
    for (const wire of WIRES) expect(seen.get(wire), `over ${wire}`).toEqual(reference);
    // Each call got its own id.
    expect(requestIds.size).toBe(WIRES.length);
  });
});

describe("request ids", () => {
  it.each(WIRES)("over %s, a sane x-request-id is echoed in ErrorInfo.metadata.requestId", async (wire) => {
    const id = `parity-${wire}-01`;
    const e = await failureOver(wire, twitter({ email: "nope" }), server.apiKey, { "x-request-id": id });
    expect(e.errorInfo?.metadata.requestId).toBe(id);
    expect(server.logs.some((l) => l.includes(`"requestId":"${id}"`))).toBe(true);
  });
  it.each(WIRES)("over %s, an insane x-request-id is replaced by a ULID", async (wire) => {
    const e = await failureOver(wire, twitter({ email: "nope" }), server.apiKey, { "x-request-id": "no spaces or <tags> allowed" });
    expect(e.errorInfo?.metadata.requestId).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
  });
});
