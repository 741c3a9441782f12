import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code } from "@connectrpc/connect";
import { AccountService } from "../../gen/postpress/accounts/v1/account_service_pb.js";
import { callRpc, WIRES } from "../support/clients.ts";
import { startTestServer, type TestServer } from "../support/server.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

describe.each(WIRES)("over %s", (wire) => {
  it("answers a bad field with INVALID_ARGUMENT and a field violation", async () => {
    const r = await callRpc(server, wire, AccountService.method.connectAccount, { country: "FRA", variant: { case: "twitter", value: { username: "x", email: "x@y.z", password: "p" } } }, { apiKey: server.apiKey });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.code).toBe(Code.InvalidArgument);
    expect(r.error.errorInfo?.metadata.type).toBe("errors/invalid_parameters");
    expect(r.error.badRequest?.fieldViolations.map((v) => v.field)).toEqual(["country", "country"]);
  });
});
