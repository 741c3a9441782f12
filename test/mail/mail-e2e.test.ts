import { Code } from "@connectrpc/connect";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ImapEncryption } from "../../gen/postpress/accounts/v1/variants_pb.js";
import { AccountService } from "../../gen/postpress/accounts/v1/account_service_pb.js";
import { createMailConnector } from "../../src/domain/connectors/mail/index.ts";
import { callRpc, type RpcResult, type Wire } from "../support/clients.ts";
import { mailAuth, passwordForms, WRONG_PASSWORD, type MailFields } from "../support/mail/input.ts";
import { MAIL_PASSWORD, MAIL_USER, startMailLab, type MailLab } from "../support/mail/lab.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import { loopbackGuard } from "../support/loopback-guard.ts";

const { connectAccount, getAccount, deleteAccount } = AccountService.method;
let lab: MailLab;
let server: TestServer;

beforeAll(async () => {
  lab = await startMailLab();
  server = await startTestServer({ connectors: [createMailConnector({ extraCaPem: lab.caPem, guard: loopbackGuard })] });
});
afterAll(async () => {
  await server?.close();
  await lab?.stop();
});
afterEach(() => lab.assertNoOpenConnections());

function ok<O>(result: RpcResult<O>): O {
  if (!result.ok) throw new Error(`expected success, got ${result.error.code} ${result.error.errorInfo?.metadata.type}: ${result.error.message}`);
  return result.response;
}

function failed<O>(result: RpcResult<O>) {
  if (result.ok) throw new Error("expected a failure, the call succeeded");
  // Whatever went wrong, no password travels back, and none is logged.
  const everything = JSON.stringify({ message: result.error.message, info: result.error.errorInfo?.metadata, logs: server.logs });
  for (const form of [...passwordForms(MAIL_PASSWORD), ...passwordForms(WRONG_PASSWORD)]) expect(everything).not.toContain(form);
  return result.error;
}

describe.each(["grpc", "connect-binary"] as const satisfies readonly Wire[])("over %s", (wire) => {
  const good = (): MailFields => ({ imap: lab.imap.trusted.imaps!, smtp: lab.smtp.starttls.address, imapEncryption: ImapEncryption.TLS });
  const connect = (fields: MailFields, headers: Record<string, string> = {}) =>
    callRpc(server, wire, connectAccount, { variant: { case: "mail", value: mailAuth(fields) } }, { apiKey: server.apiKey, headers });

  it("connects a real mailbox once; the same mailbox again already exists", async () => {
    const { accountId } = ok(await connect(good()));
    try {
      const { account } = ok(await callRpc(server, wire, getAccount, { accountId }, { apiKey: server.apiKey }));
      expect(account?.identity).toMatchObject({ providerUserId: `${MAIL_USER}@127.0.0.1`, email: MAIL_USER });

      // Over the other listeners it is still the same login at the same host.
      const again = failed(await connect({ ...good(), imap: lab.imap.trusted.imap, imapEncryption: ImapEncryption.STARTTLS }));
      expect(again.code).toBe(Code.AlreadyExists);
      expect(again.errorInfo?.metadata.type).toBe("errors/already_exists");
    } finally {
      ok(await callRpc(server, wire, deleteAccount, { accountId }, { apiKey: server.apiKey }));
    }
  });

  it("a wrong IMAP password answers invalid_credentials naming IMAP", async () => {
    const error = failed(await connect({ ...good(), imapPassword: WRONG_PASSWORD }));
    expect(error.code).toBe(Code.Unauthenticated);
    expect(error.message).toContain("IMAP login was rejected.");
    expect(error.errorInfo?.metadata).toMatchObject({
      type: "errors/invalid_credentials",
      protocol: "imap",
      host: "127.0.0.1",
      port: String(lab.imap.trusted.imaps!.port),
    });
  });

  it("an untrusted certificate answers provider_tls_error with cause tls", async () => {
    const error = failed(await connect({ ...good(), smtp: lab.smtp.untrusted.address }));
    expect(error.code).toBe(Code.Unavailable);
    expect(error.errorInfo?.metadata).toMatchObject({ type: "errors/provider_tls_error", protocol: "smtp", cause: "tls" });
  });

  it("the caller's deadline reaches the mail check, which lets go of the server", async () => {
    const deadline: Record<string, string> = wire === "grpc" ? { "grpc-timeout": "700m" } : { "connect-timeout-ms": "700" };
    const started = Date.now();
    const error = failed(await connect({ ...good(), smtp: lab.silent.address }, deadline));
    expect(error.code).toBe(Code.DeadlineExceeded);
    // The code says whose clock ended it; the bound only rules out the mail check's own 15 s
    // connect timeout, with room for a loaded machine's late timers.
    expect(Date.now() - started).toBeLessThan(10_000);
    // afterEach: the silent server holds no connection any more.
  });
});
