import { getCACertificates } from "node:tls";
import { describe, expect, it } from "vitest";
import { ImapEncryption } from "../../gen/postpress/accounts/v1/variants_pb.js";
import { mailFailure, toMailError, type Endpoint } from "../../src/domain/connectors/mail/errors.ts";
import { mailIdentity, normaliseHost } from "../../src/domain/connectors/mail/identity.ts";
import { imapSecurity } from "../../src/domain/connectors/mail/imap.ts";
import { smtpSecurity } from "../../src/domain/connectors/mail/smtp.ts";
import { createTrustStore } from "../../src/domain/connectors/mail/tls.ts";
import { AppError } from "../../src/errors/app-error.ts";

describe("encryption", () => {
  it.each([
    ["tls", ImapEncryption.TLS, 993, "tls"],
    ["tls", ImapEncryption.TLS, 1143, "tls"],
    ["ssl", ImapEncryption.SSL, 143, "tls"],
    ["starttls", ImapEncryption.STARTTLS, 143, "starttls"],
    ["starttls", ImapEncryption.STARTTLS, 993, "starttls"],
    ["default", ImapEncryption.DEFAULT, 993, "tls"],
    ["default", ImapEncryption.DEFAULT, 143, "starttls"],
  ] as const)("IMAP %s on port %i is %s", (_name, encryption, port, security) => {
    expect(imapSecurity(encryption, port)).toBe(security);
  });

  it.each([
    [465, "tls"],
    [587, "starttls"],
    [25, "starttls"],
    [2525, "starttls"],
  ] as const)("SMTP on port %i is %s", (port, security) => {
    expect(smtpSecurity(port)).toBe(security);
  });
});

describe("identity", () => {
  it("is the normalised IMAP login at the normalised IMAP host", () => {
    expect(mailIdentity("  Anna@Acme.com ", "IMAP.Acme.com.")).toEqual({
      providerUserId: "anna@acme.com@imap.acme.com",
      email: "anna@acme.com",
    });
  });

  it("has no email when the login is not an address", () => {
    expect(mailIdentity("anna", "imap.acme.com")).toEqual({ providerUserId: "anna@imap.acme.com" });
  });

  it("normalises hosts the same way for connecting and for the identity", () => {
    expect(normaliseHost(" Mail.Example.ORG. ")).toBe("mail.example.org");
    expect(normaliseHost("127.0.0.1")).toBe("127.0.0.1");
  });
});

describe("error mapping", () => {
  const imap: Endpoint = { protocol: "imap", host: "imap.acme.com", port: 993 };
  const smtp: Endpoint = { protocol: "smtp", host: "smtp.acme.com", port: 587 };
  const codeError = (fields: Record<string, unknown>) => Object.assign(new Error("library message 535 pass=hunter2"), fields);

  it.each([
    ["imapflow login rejected", imap, { authenticationFailed: true }, "invalid_credentials", "credentials", "IMAP login was rejected."],
    ["nodemailer login rejected", smtp, { code: "EAUTH", response: "535 5.7.8 bad" }, "invalid_credentials", "credentials", "SMTP login was rejected."],
    ["refused", imap, { code: "ECONNREFUSED" }, "provider_unreachable", "refused", "Could not reach the IMAP server imap.acme.com:993 (connection refused)."],
    ["nodemailer refused", smtp, { code: "ESOCKET", originalCode: "ECONNREFUSED" }, "provider_unreachable", "refused", "(connection refused)"],
    ["DNS", imap, { code: "ENOTFOUND" }, "provider_unreachable", "dns", "(DNS lookup failed)"],
    ["nodemailer DNS", smtp, { code: "EDNS", originalCode: "ENOTFOUND" }, "provider_unreachable", "dns", "(DNS lookup failed)"],
    ["unreachable", imap, { code: "EHOSTUNREACH" }, "provider_unreachable", "unreachable", "(host unreachable)"],
    ["reset", imap, { code: "ECONNRESET" }, "provider_unreachable", "unreachable", "(connection reset)"],
    ["closed", smtp, { code: "ECONNECTION" }, "provider_unreachable", "unreachable", "(the server closed the connection)"],
    ["unknown CA", imap, { code: "UNABLE_TO_VERIFY_LEAF_SIGNATURE" }, "provider_tls_error", "tls", "certificate is not trusted"],
    ["self-signed", smtp, { code: "ESOCKET", originalCode: "DEPTH_ZERO_SELF_SIGNED_CERT" }, "provider_tls_error", "tls", "certificate is not trusted"],
    ["expired", imap, { code: "CERT_HAS_EXPIRED" }, "provider_tls_error", "tls", "certificate has expired"],
    ["wrong name", imap, { code: "ERR_TLS_CERT_ALTNAME_INVALID" }, "provider_tls_error", "tls", "does not name this host"],
    ["handshake", imap, { code: "ERR_SSL_WRONG_VERSION_NUMBER" }, "provider_tls_error", "tls", "the TLS handshake failed"],
    ["imapflow STARTTLS missing", imap, { tlsFailed: true }, "provider_tls_error", "tls", "does not offer STARTTLS"],
    ["nodemailer STARTTLS refused", smtp, { code: "ETLS", response: "502 5.5.2 no" }, "provider_tls_error", "tls", "does not offer STARTTLS"],
    ["nodemailer TLS closed", smtp, { code: "ETLS" }, "provider_tls_error", "tls", "the TLS handshake failed"],
    ["connect timeout", imap, { code: "CONNECT_TIMEOUT" }, "request_timeout", "timeout", "did not answer in time"],
    ["greeting timeout", smtp, { code: "ETIMEDOUT" }, "request_timeout", "timeout", "did not answer in time"],
    ["not SMTP", smtp, { code: "EPROTOCOL" }, "provider_error", "protocol", "does not answer like an SMTP server"],
    ["anything else", imap, {}, "provider_error", "protocol", "does not answer like an IMAP server"],
  ] as const)("%s", (_name, endpoint, fields, kind, cause, detail) => {
    const error = toMailError(endpoint, codeError(fields));
    expect(error.kind).toBe(kind);
    expect(error.metadata).toEqual({ protocol: endpoint.protocol, host: endpoint.host, port: String(endpoint.port), cause });
    expect(error.message).toContain(detail);
    // The library's message may quote the server (or a credential): it stays out of the answer.
    expect(error.message).not.toContain("hunter2");
  });

  it("passes AppErrors through untouched", () => {
    const original = mailFailure(imap, "credentials");
    expect(toMailError(smtp, original)).toBe(original);
  });

  it("a cancellation names the protocol", () => {
    const error = mailFailure(smtp, "canceled");
    expect(error).toBeInstanceOf(AppError);
    expect(error.kind).toBe("request_canceled");
    expect(error.metadata.protocol).toBe("smtp");
  });
});

describe("extra CA configuration", () => {
  const somePem = getCACertificates("bundled")[0]!;

  it("accepts PEM certificates, as a string or a Buffer", () => {
    expect(() => createTrustStore(somePem + somePem)).not.toThrow();
    expect(() => createTrustStore(Buffer.from(somePem))).not.toThrow();
  });

  it.each([
    ["holds no PEM certificate", "not a pem"],
    ["holds a certificate that cannot be read", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"],
  ])("refuses a file that %s", (message, pem) => {
    expect(() => createTrustStore(pem)).toThrow(message);
  });
});
