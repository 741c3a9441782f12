import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AccountService } from "../../gen/postpress/accounts/v1/account_service_pb.js";
import { callRpc, connectJson, WIRES, type RpcResult } from "../support/clients.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import { httpPost } from "./raw.ts";

/**
 * Issue 11, point 8: a caller's mistake answers with what is wrong, by name. Before, each of
 * these answered a bare errors/undecodable_request "(json)" with no field, an empty 404/415
 * body that the server did not log, or not_found for an id that cannot exist.
 */

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

const connectAccount = AccountService.method.connectAccount;
const key = () => ({ "x-api-key": server.apiKey });

/** The one field violation of an INVALID_ARGUMENT answer of catalogue type `type`. */
function violation(r: RpcResult<unknown>, type: string) {
  expect(r.ok).toBe(false);
  if (r.ok) throw new Error("unreachable");
  expect(r.error.code).toBe(Code.InvalidArgument);
  expect(r.error.errorInfoCount).toBe(1);
  expect(r.error.errorInfo?.metadata.type).toBe(type);
  expect(r.error.badRequest?.fieldViolations).toHaveLength(1);
  return r.error.badRequest!.fieldViolations[0]!;
}

const mail = {
  imapUser: "anna@acme.com", smtpUser: "anna@acme.com", imapPassword: "secret-imap-1", smtpPassword: "secret-smtp-1",
  imapHost: "imap.acme.com", imapPort: 993, smtpHost: "smtp.acme.com", smtpPort: 465, imapEncryption: "IMAP_ENCRYPTION_TLS",
};

describe("JSON that is not the message names the key or value (Connect JSON)", () => {
  it("a misspelled field: its path, and the field it probably meant", async () => {
    const { imapPassword, ...rest } = mail;
    const v = violation(await connectJson(server.httpUrl, connectAccount, JSON.stringify({ mail: { ...rest, imap_pasword: imapPassword } }), key()), "errors/undecodable_request");
    expect(v.field).toBe("mail.imap_pasword");
    expect(v.description).toContain('did you mean "imap_password"');
    expect(JSON.stringify(v)).not.toContain(imapPassword);
  });

  it("the original API's flat body: the unknown key, and what the message takes instead", async () => {
    const body = JSON.stringify({ provider: "LINKEDIN", username: "anna@acme.com", password: "secret-li-1" });
    const v = violation(await connectJson(server.httpUrl, connectAccount, body, key()), "errors/undecodable_request");
    expect(v.field).toBe("provider");
    expect(v.description).toContain("linkedin_basic");
    expect(JSON.stringify(v)).not.toContain("secret-li-1");
  });

  it('an enum written as the original API did ("imapEncryption": "tls"): the value and the accepted names', async () => {
    const v = violation(await connectJson(server.httpUrl, connectAccount, JSON.stringify({ mail: { ...mail, imapEncryption: "tls" } }), key()), "errors/undecodable_request");
    expect(v.field).toBe("mail.imap_encryption");
    expect(v.description).toContain('"tls"');
    expect(v.description).toContain("IMAP_ENCRYPTION_TLS");
  });

  it("a 1 MiB key is quoted only by a short prefix", async () => {
    const long = "k".repeat(1024 * 1024);
    const r = await connectJson(server.httpUrl, connectAccount, `{"${long}": 1}`, key());
    const v = violation(r, "errors/undecodable_request");
    expect(v.field.length).toBeLessThan(64);
    expect(JSON.stringify(r).length).toBeLessThan(4096);
  });
});

describe("requests the HTTP port cannot route answer a JSON error body, and are logged", () => {
  it("an unknown path: 404, errors/unknown_method", async () => {
    const res = await httpPost(`${server.httpUrl}/postpress.accounts.v1.AccountService/NoSuchMethod`, "application/json", "{}", key());
    expect(res.status).toBe(404);
    expect(res.contentType).toBe("application/json");
    const body = JSON.parse(res.text) as { code: string; details: { type: string }[] };
    expect(body.code).toBe("unimplemented");
    expect(body.details.map((d) => d.type)).toContain("google.rpc.ErrorInfo");
    expect(res.text).not.toBe("");
    expect(server.logs.some((l) => l.includes('"errorType":"errors/unknown_method"') && l.includes("NoSuchMethod"))).toBe(true);
  });

  it("a wrong content type: 415, errors/unsupported_media_type", async () => {
    const res = await httpPost(`${server.httpUrl}/postpress.accounts.v1.AccountService/ListAccounts`, "text/plain", "{}", key());
    expect(res.status).toBe(415);
    expect(res.contentType).toBe("application/json");
    const body = JSON.parse(res.text) as { code: string; message: string };
    expect(body.code).toBe("invalid_argument");
    expect(body.message).toContain("application/json");
    expect(server.logs.some((l) => l.includes('"errorType":"errors/unsupported_media_type"'))).toBe(true);
  });
});

describe("a malformed account id is an invalid argument, not an absent account", () => {
  it.each(WIRES)("over %s: GetAccount and DeleteAccount name account_id; a well-formed unknown id is still not_found", async (wire) => {
    const byId = (method: "get" | "delete", accountId: string): Promise<RpcResult<unknown>> =>
      method === "get"
        ? callRpc(server, wire, AccountService.method.getAccount, { accountId }, { apiKey: server.apiKey })
        : callRpc(server, wire, AccountService.method.deleteAccount, { accountId }, { apiKey: server.apiKey });
    for (const method of ["get", "delete"] as const) {
      for (const accountId of ["acc_nope", "ws_01HXYZ4QK3WJ8FN3M6QH7TZ8GR", "acc_01hxyz4qk3wj8fn3m6qh7tz8gr", "01HXYZ4QK3WJ8FN3M6QH7TZ8GR"]) {
        const v = violation(await byId(method, accountId), "errors/invalid_parameters");
        expect(v.field).toBe("account_id");
      }
      const absent = await byId(method, "acc_01HXYZ4QK3WJ8FN3M6QH7TZ8GR");
      expect(absent.ok).toBe(false);
      if (!absent.ok) expect(absent.error.errorInfo?.metadata.type).toBe("errors/not_found");
    }
  });
});
