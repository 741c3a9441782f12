import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AccountStatus } from "../../gen/postpress/accounts/v1/account_pb.js";
import { EventType } from "../../gen/postpress/accounts/v1/event_service_pb.js";
import { ImapEncryption } from "../../gen/postpress/accounts/v1/variants_pb.js";
import { loadConfig } from "../../src/config.ts";
import { createGoogleConnector } from "../../src/domain/connectors/google/google-connector.ts";
import { createMailConnector } from "../../src/domain/connectors/mail/index.ts";
import { startTcpProxy, type TcpProxy } from "../accounts/tcp-proxy.ts";
import { loopbackGuard } from "../support/loopback-guard.ts";
import { startDovecot, type DovecotServer } from "../support/mail/dovecot.ts";
import { mailAuth } from "../support/mail/input.ts";
import { MAIL_PASSWORD, MAIL_USER } from "../support/mail/lab.ts";
import { createTestPki } from "../support/mail/pki.ts";
import { startSmtpServer, type TestSmtpServer } from "../support/mail/smtp.ts";
import { startFakeGoogle, type FakeGoogle } from "../support/oauth/fake-google.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import { checkerFor, clientsOf, DRIVEN_ENV, eventually, follow, register, round, startReceiver, type Receiver } from "./support.ts";

/**
 * Health checks against real providers' fakes: a Dovecot whose password changes and whose
 * IMAP port goes away (a TCP proxy in front of it is cut), and the fake Google OAuth
 * provider answering invalid_grant. Every status change shows once in the stream and once
 * at a local webhook receiver, signed.
 */
describe.each(["sqlite", "postgres"] as const)("health checks on %s", (backend) => {
  let dir: string;
  let dovecot: DovecotServer;
  let smtp: TestSmtpServer;
  let imapProxy: TcpProxy;
  let google: FakeGoogle;
  let server: TestServer;
  let receiver: Receiver;
  let connectors: ReturnType<typeof createMailConnector | typeof createGoogleConnector>[];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "pp-health-"));
    const pki = await createTestPki(dir);
    const login = { user: MAIL_USER, password: MAIL_PASSWORD };
    dovecot = await startDovecot({ ...login, certificate: pki.server });
    smtp = await startSmtpServer({ ...login, mode: "starttls", certificate: pki.server });
    imapProxy = await startTcpProxy(dovecot.imaps!);
    google = await startFakeGoogle();
    connectors = [createMailConnector({ extraCaPem: pki.caPem, connectTimeoutMs: 5_000, guard: loopbackGuard }), createGoogleConnector(loadConfig(google.env).oauth, loopbackGuard)];
    server = await startTestServer({ backend, connectors, env: { ...DRIVEN_ENV } });
    receiver = await startReceiver();
  }, 60_000);
  afterAll(async () => {
    await server?.close();
    await receiver?.close();
    await imapProxy?.close();
    await Promise.all([dovecot?.stop(), smtp?.stop(), google?.close()]);
    await rm(dir, { recursive: true, force: true });
  });

  it("refusals turn accounts CREDENTIALS_EXPIRED at once, an unreachable IMAP ERROR after three checks and CONNECTED again; each change streamed and delivered once, signed", async () => {
    await register(server, receiver);
    const stream = follow(server);
    const { accounts, headers } = clientsOf(server);
    const mail = (
      await accounts.connectAccount({ variant: { case: "mail", value: mailAuth({ imap: { host: "127.0.0.1", port: imapProxy.port }, smtp: smtp.address, imapEncryption: ImapEncryption.TLS }) } }, { headers })
    ).accountId;
    const tokens = google.addUser("hanna@example.com");
    const gmail = (await accounts.connectAccount({ variant: { case: "googleOauth", value: tokens } }, { headers })).accountId;
    const status = async (id: string) => (await accounts.getAccount({ accountId: id }, { headers })).account!;

    const checker = checkerFor(server, connectors, { ...DRIVEN_ENV, ...google.env });
    expect(await round(checker)).toBe(2); // first sight: both get a place in the schedule
    expect(await round(checker)).toBe(2); // both pass

    imapProxy.cut();
    for (const expected of [AccountStatus.CONNECTED, AccountStatus.CONNECTED, AccountStatus.ERROR]) {
      await round(checker);
      expect((await status(mail)).status).toBe(expected);
    }
    expect((await status(mail)).statusReason).toMatch(/^errors\/(provider_unreachable|provider_error|network_down)$/);
    expect((await status(gmail)).status).toBe(AccountStatus.CONNECTED);
    const erroring = await accounts.listAccounts({ status: AccountStatus.ERROR }, { headers });
    expect(erroring.accounts.map((a) => a.id)).toEqual([mail]);
    await round(checker); // a fourth failure: still ERROR, not announced again
    imapProxy.restore();
    await round(checker);
    expect((await status(mail)).status).toBe(AccountStatus.CONNECTED);

    // The person changes the mailbox password; Google revokes the grant (invalid_grant on refresh).
    await dovecot.setPassword("a-new-Pa55word");
    google.expire(tokens.accessToken);
    google.revoke(tokens.refreshToken);
    await round(checker);
    for (const [name, id] of [["mail", mail], ["gmail", gmail]] as const) {
      const account = await status(id);
      expect([name, AccountStatus[account.status], account.statusReason]).toEqual([name, "CREDENTIALS_EXPIRED", "errors/invalid_credentials"]);
    }
    expect(await round(checker)).toBe(0); // expired accounts are not checked again

    const changes = [
      [mail, "CONNECTED", "ERROR"],
      [mail, "ERROR", "CONNECTED"],
      [mail, "CONNECTED", "CREDENTIALS_EXPIRED"],
      [gmail, "CONNECTED", "CREDENTIALS_EXPIRED"],
    ];
    const events = await stream.until(6);
    const streamed = events.filter((e) => e.type === EventType.ACCOUNT_STATUS_CHANGED).map((e) => [e.accountId, AccountStatus[e.fromStatus], AccountStatus[e.toStatus]]);
    expect(streamed).toHaveLength(4);
    expect(new Set(streamed.map((c) => c.join()))).toEqual(new Set(changes.map((c) => c.join())));
    // Per account, in the order they happened.
    expect(streamed.filter(([id]) => id === mail)).toEqual(changes.slice(0, 3));

    await eventually(() => receiver.received.length >= 6, 20_000, "six deliveries");
    const ids = events.map((e) => e.id);
    expect(receiver.received.map((r) => r.eventId).sort()).toEqual([...ids].sort());
    expect(receiver.received.every((r) => r.signed)).toBe(true);
    const delivered = receiver.received.find((r) => r.body.account_id === gmail && r.body.type === "account.status_changed")!;
    expect(delivered.body).toMatchObject({ id: delivered.eventId, data: { from: "CONNECTED", to: "CREDENTIALS_EXPIRED", reason: "errors/invalid_credentials" } });
    // Nothing more comes: each change once.
    await round(checker);
    expect(stream.events).toHaveLength(6);
    expect(receiver.received).toHaveLength(6);
    await stream.stop();
    // No secret in any event, delivery or log line.
    const everything = JSON.stringify([receiver.received.map((r) => r.raw), server.logs]);
    for (const secret of [MAIL_PASSWORD, tokens.accessToken, tokens.refreshToken, receiver.secret]) expect(everything).not.toContain(secret);
  }, 120_000);
});
