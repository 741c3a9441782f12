import { inspect } from "node:util";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ImapEncryption } from "../../gen/postpress/accounts/v1/variants_pb.js";
import { createMailConnector } from "../../src/domain/connectors/mail/index.ts";
import { AppError } from "../../src/errors/app-error.ts";
import { mailInput, passwordForms, WRONG_PASSWORD, type MailFields } from "../support/mail/input.ts";
import { MAIL_PASSWORD, MAIL_USER, startMailLab, type MailLab } from "../support/mail/lab.ts";
import { loopbackGuard } from "../support/loopback-guard.ts";

let lab: MailLab;
let connector: ReturnType<typeof createMailConnector>;

beforeAll(async () => {
  lab = await startMailLab();
  connector = createMailConnector({ extraCaPem: lab.caPem, guard: loopbackGuard });
});
afterAll(() => lab?.stop());
// Every path, success or failure, must leave no socket behind on either side.
afterEach(() => lab.assertNoOpenConnections());

async function failure(run: Promise<unknown>): Promise<AppError> {
  const error = await run.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  // Whatever the failure, no password travels with it, not even in the cause that gets logged.
  const everything = inspect(error, { depth: 10 });
  for (const form of [...passwordForms(MAIL_PASSWORD), ...passwordForms(WRONG_PASSWORD)]) expect(everything).not.toContain(form);
  return error as AppError;
}

/** A healthy pair of servers: Dovecot over implicit TLS, smtp-server with STARTTLS. */
const good = (): MailFields => ({ imap: lab.imap.trusted.imaps!, smtp: lab.smtp.starttls.address, imapEncryption: ImapEncryption.TLS });

describe("a valid mailbox", () => {
  it("connects, with the identity of the IMAP login at the IMAP host", async () => {
    const result = await connector.connect(mailInput(good()));
    expect(result.identity).toEqual({ providerUserId: `${MAIL_USER}@127.0.0.1`, email: MAIL_USER });
    expect(result.details).toEqual({ imapSecurity: "tls", smtpSecurity: "starttls" });
  });

  it.each([
    ["tls", "imaps", "tls", ImapEncryption.TLS],
    ["ssl", "imaps", "tls", ImapEncryption.SSL],
    ["starttls", "imap", "starttls", ImapEncryption.STARTTLS],
    ["default", "imap", "starttls", ImapEncryption.DEFAULT],
  ] as const)("imap_encryption %s on Dovecot's %s listener connects with %s", async (_name, listener, security, imapEncryption) => {
    const imap = lab.imap.trusted[listener]!;
    const result = await connector.connect(mailInput({ ...good(), imap, imapEncryption }));
    expect(result.details?.imapSecurity).toBe(security);
  });

  it("imap_encryption default on port 993 uses implicit TLS", async ({ skip }) => {
    const imap = lab.imap.trusted.imaps993;
    if (!imap) return skip("port 993 needs root");
    const result = await connector.connect(mailInput({ ...good(), imap, imapEncryption: ImapEncryption.DEFAULT }));
    expect(result.details?.imapSecurity).toBe("tls");
  });

  it("SMTP on port 465 uses implicit TLS", async ({ skip }) => {
    const smtp = lab.smtp.tls465;
    if (!smtp) return skip("port 465 needs root");
    const result = await connector.connect(mailInput({ ...good(), smtp: smtp.address }));
    expect(result.details?.smtpSecurity).toBe("tls");
  });
});

describe("wrong passwords", () => {
  it("a rejected IMAP login is invalid_credentials naming IMAP", async () => {
    const error = await failure(connector.connect(mailInput({ ...good(), imapPassword: WRONG_PASSWORD })));
    expect(error.kind).toBe("invalid_credentials");
    expect(error.message).toContain("IMAP login was rejected.");
    expect(error.metadata).toEqual({ protocol: "imap", host: "127.0.0.1", port: String(lab.imap.trusted.imaps!.port), cause: "credentials" });
  });

  it("a rejected SMTP login is invalid_credentials naming SMTP", async () => {
    const error = await failure(connector.connect(mailInput({ ...good(), smtpPassword: WRONG_PASSWORD })));
    expect(error.kind).toBe("invalid_credentials");
    expect(error.message).toContain("SMTP login was rejected.");
    expect(error.metadata).toMatchObject({ protocol: "smtp", port: String(lab.smtp.starttls.address.port) });
  });
});

describe("never plain text", () => {
  it.each([
    ["starttls", ImapEncryption.STARTTLS],
    ["default", ImapEncryption.DEFAULT],
  ] as const)("IMAP %s against a server without STARTTLS is refused", async (_name, imapEncryption) => {
    const error = await failure(connector.connect(mailInput({ ...good(), imap: lab.imap.plain.imap, imapEncryption })));
    expect(error.kind).toBe("provider_tls_error");
    expect(error.metadata).toMatchObject({ protocol: "imap", cause: "tls" });
    expect(error.message).toContain("does not offer STARTTLS");
  });

  it("IMAP tls against a plain-text server fails the handshake", async () => {
    // Dovecot answers the ClientHello with its plain-text greeting.
    const imap = lab.imap.plain.imap;
    const error = await failure(connector.connect(mailInput({ ...good(), imap, imapEncryption: ImapEncryption.TLS })));
    expect(error.metadata).toMatchObject({ protocol: "imap", cause: "tls" });
    expect(error.message).toContain("TLS handshake failed");
  });

  it("SMTP against a server without STARTTLS is refused before AUTH", async () => {
    const error = await failure(connector.connect(mailInput({ ...good(), smtp: lab.smtp.plain.address })));
    expect(error.kind).toBe("provider_tls_error");
    expect(error.metadata).toMatchObject({ protocol: "smtp", cause: "tls" });
    expect(error.message).toContain("does not offer STARTTLS");
  });
});

describe("certificates", () => {
  it.each([
    ["IMAP implicit TLS", "imaps", ImapEncryption.TLS],
    ["IMAP STARTTLS", "imap", ImapEncryption.STARTTLS],
  ] as const)("%s with a certificate from an unknown CA is refused", async (_name, listener, imapEncryption) => {
    const imap = lab.imap.untrusted[listener]!;
    const error = await failure(connector.connect(mailInput({ ...good(), imap, imapEncryption })));
    expect(error.kind).toBe("provider_tls_error");
    expect(error.metadata).toMatchObject({ protocol: "imap", cause: "tls" });
    expect(error.message).toContain("certificate is not trusted");
  });

  it("SMTP STARTTLS with a certificate from an unknown CA is refused", async () => {
    const error = await failure(connector.connect(mailInput({ ...good(), smtp: lab.smtp.untrusted.address })));
    expect(error.metadata).toMatchObject({ protocol: "smtp", cause: "tls" });
    expect(error.message).toContain("certificate is not trusted");
  });

  it("the test CA is only trusted when configured", async () => {
    const error = await failure(createMailConnector({ guard: loopbackGuard }).connect(mailInput(good())));
    expect(error.metadata).toMatchObject({ cause: "tls" });
    expect(error.message).toContain("certificate is not trusted");
  });
});

describe("unreachable servers", () => {
  it("a closed IMAP port is reported as refused", async () => {
    const error = await failure(connector.connect(mailInput({ ...good(), imap: lab.closed })));
    expect(error.kind).toBe("provider_unreachable");
    expect(error.metadata).toMatchObject({ protocol: "imap", cause: "refused" });
    expect(error.message).toContain(`Could not reach the IMAP server 127.0.0.1:${lab.closed.port} (connection refused).`);
  });

  it("a closed SMTP port is reported as refused", async () => {
    const error = await failure(connector.connect(mailInput({ ...good(), smtp: lab.closed })));
    expect(error.metadata).toMatchObject({ protocol: "smtp", cause: "refused" });
  });

  it("a host name that does not resolve is reported as DNS", async () => {
    const imap = { host: "imap.postpress-test.invalid", port: 993 };
    const error = await failure(connector.connect(mailInput({ ...good(), imap })));
    expect(error.metadata).toMatchObject({ protocol: "imap", host: imap.host, cause: "dns" });
  });

  it("a server that is not IMAP ends at the deadline", async () => {
    // imapflow waits for an IMAP greeting and ignores other lines, so an SMTP greeting looks
    // like silence: the deadline ends it (unlike SMTP below, where nodemailer checks the greeting).
    const imap = lab.smtp.plain.address;
    const error = await failure(connector.connect(mailInput({ ...good(), imap, imapEncryption: ImapEncryption.STARTTLS }, { deadlineMs: 500 })));
    expect(error.kind).toBe("request_timeout");
    expect(error.metadata).toMatchObject({ protocol: "imap", cause: "timeout" });
  });

  it("a server that is not SMTP is a protocol error", async () => {
    const error = await failure(connector.connect(mailInput({ ...good(), smtp: lab.imap.trusted.imap })));
    expect(error.kind).toBe("provider_error");
    expect(error.metadata).toMatchObject({ protocol: "smtp", cause: "protocol" });
  });
});

describe("servers that cannot check a login", () => {
  it("an SMTP server that offers no AUTH is refused: there is no password to check", async () => {
    const error = await failure(connector.connect(mailInput({ ...good(), smtp: lab.smtp.noAuth.address })));
    expect(error.kind).toBe("provider_error");
    expect(error.metadata).toMatchObject({ protocol: "smtp", cause: "protocol" });
    expect(error.message).toContain("does not offer AUTH");
  });
});

describe("deadline and cancellation", () => {
  // The good protocol's whole check (TCP, TLS, login) must end well inside it on a loaded
  // machine, or its own timeout is the one reported.
  const deadlineMs = 5_000;
  // What the bounds rule out is waiting for the connect timeout (15 s by default) or forever;
  // a loaded machine runs timers seconds late, so the margin leaves it that room and no more.
  const margin = 5_000;

  it.each(["imap", "smtp"] as const)("a silent %s server ends in request_timeout at the deadline", async (protocol) => {
    const started = Date.now();
    const error = await failure(connector.connect(mailInput({ ...good(), [protocol]: lab.silent.address }, { deadlineMs })));
    const elapsed = Date.now() - started;
    expect(error.kind).toBe("request_timeout");
    expect(error.metadata).toMatchObject({ protocol, cause: "timeout" });
    expect(elapsed).toBeGreaterThanOrEqual(deadlineMs - 5);
    expect(elapsed).toBeLessThan(deadlineMs + margin);
  });

  it("the caller's abort stops the check promptly", async () => {
    const caller = new AbortController();
    setTimeout(() => caller.abort(), 150);
    const started = Date.now();
    const error = await failure(connector.connect(mailInput({ ...good(), imap: lab.silent.address }, { signal: caller.signal })));
    expect(error.kind).toBe("request_canceled");
    expect(Date.now() - started).toBeLessThan(150 + margin);
  });

  it("a caller's deadline signal is a timeout, not a cancellation", async () => {
    // Both protocols wait on the silent server, so nothing but the caller's signal can end
    // them, whatever the machine's load: the signal fires (as AbortSignal.timeout's does,
    // with a TimeoutError) once both connections are open, not after a guessed delay.
    const caller = new AbortController();
    const silent = lab.silent.address;
    const run = failure(connector.connect(mailInput({ ...good(), imap: silent, smtp: silent }, { signal: caller.signal, deadlineMs: 60_000 })));
    while ((await lab.silent.connections()) < 2) await new Promise((resolve) => setTimeout(resolve, 10));
    caller.abort(new DOMException("The operation timed out.", "TimeoutError"));
    const error = await run;
    expect(error.kind).toBe("request_timeout");
    expect(error.metadata).toMatchObject({ host: "127.0.0.1", port: String(silent.port), cause: "timeout" });
    expect(["imap", "smtp"]).toContain(error.metadata.protocol);
  });

  it("an already aborted caller opens no connection", async () => {
    const error = await failure(connector.connect(mailInput(good(), { signal: AbortSignal.abort() })));
    expect(error.kind).toBe("request_canceled");
  });

  it("the first failure stops the other protocol's check", async () => {
    // IMAP fails at once; SMTP would wait for the silent server until the deadline.
    const started = Date.now();
    const error = await failure(
      connector.connect(mailInput({ ...good(), imapPassword: WRONG_PASSWORD, smtp: lab.silent.address }, { deadlineMs: 10_000 })),
    );
    expect(error.kind).toBe("invalid_credentials");
    expect(Date.now() - started).toBeLessThan(2_000);
    // afterEach then checks the silent server was let go.
  });
});
