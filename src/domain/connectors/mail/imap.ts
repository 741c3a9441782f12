import { ImapEncryption } from "../../../../gen/postpress/accounts/v1/variants_pb.js";
import type { DialTarget } from "../../../net/target-guard.ts";
import { bounded, type CheckContext, type Login, type Security } from "./check.ts";
import { toMailError, type Endpoint } from "./errors.ts";
import { tlsOptions } from "./tls.ts";

/**
 * How IMAP is secured. Never plain text: "tls" and "ssl" are implicit TLS, "starttls"
 * requires STARTTLS, and "default" is implicit TLS on 993 and required STARTTLS elsewhere.
 * (UNSPECIFIED never gets here: validation refuses it; it would behave like "default".)
 */
export function imapSecurity(encryption: ImapEncryption, port: number): Security {
  if (encryption === ImapEncryption.TLS || encryption === ImapEncryption.SSL) return "tls";
  if (encryption === ImapEncryption.STARTTLS) return "starttls";
  return port === 993 ? "tls" : "starttls";
}

/** Connects, secures, logs in, lists the mailboxes and logs out; the socket is closed when it settles. */
export async function checkImap(endpoint: Endpoint, target: DialTarget, security: Security, login: Login, ctx: CheckContext): Promise<void> {
  // Loaded on the first mail connect: imapflow costs ~80 ms and ~30 MB, which no other call needs.
  const { ImapFlow } = await import("imapflow");
  const client = new ImapFlow({
    // The address the guard checked, never the name again; the name stays for TLS.
    host: target.address,
    servername: target.servername,
    port: endpoint.port,
    secure: security === "tls",
    // true makes STARTTLS a requirement: without it imapflow would carry on in plain text.
    doSTARTTLS: security === "starttls" ? true : undefined,
    tls: tlsOptions(ctx.trust, target),
    auth: login,
    // connect() then runs the whole check: LOGIN, LIST, LOGOUT.
    verifyOnly: true,
    includeMailboxes: true,
    connectionTimeout: ctx.connectTimeoutMs,
    greetingTimeout: ctx.connectTimeoutMs,
    logger: false,
  });
  // Failures reach connect() as well; an 'error' event without a listener would throw.
  client.on("error", () => {});
  try {
    await bounded(endpoint, ctx, () => client.connect());
  } catch (error) {
    throw toMailError(endpoint, error);
  } finally {
    client.close();
  }
}
