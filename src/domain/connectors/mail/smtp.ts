import type SMTPConnection from "nodemailer/lib/smtp-connection";
import type { DialTarget } from "../../../net/target-guard.ts";
import { bounded, type CheckContext, type Login, type Security } from "./check.ts";
import { mailFailure, toMailError, type Endpoint } from "./errors.ts";
import { tlsOptions } from "./tls.ts";

/**
 * How SMTP is secured: implicit TLS on 465 (RFC 8314), otherwise STARTTLS, which is
 * required: a server that does not offer it is refused rather than sent AUTH in plain text.
 */
export function smtpSecurity(port: number): Security {
  return port === 465 ? "tls" : "starttls";
}

/** Connects, says EHLO, secures, authenticates and quits; the socket is closed when it settles. */
export async function checkSmtp(endpoint: Endpoint, target: DialTarget, security: Security, login: Login, ctx: CheckContext): Promise<void> {
  // Loaded on the first mail connect, like imapflow: no other call needs it.
  const { default: SMTPConnection } = await import("nodemailer/lib/smtp-connection");
  const connection = new SMTPConnection({
    // The address the guard checked, never the name again; the name stays for TLS (tls.servername).
    host: target.address,
    port: endpoint.port,
    secure: security === "tls",
    requireTLS: security === "starttls",
    tls: tlsOptions(ctx.trust, target),
    connectionTimeout: ctx.connectTimeoutMs,
    greetingTimeout: ctx.connectTimeoutMs,
    // Destroy instead of waiting for the server's FIN: the check is over once it settles.
    socketCloseTimeout: 0,
    logger: false,
  });
  try {
    await bounded(endpoint, ctx, () => session(connection, endpoint, login));
  } catch (error) {
    throw toMailError(endpoint, error);
  } finally {
    connection.close();
  }
}

/** Resolves once the server has answered QUIT. */
function session(connection: SMTPConnection, endpoint: Endpoint, login: Login): Promise<void> {
  return new Promise((resolve, reject) => {
    let quitting = false;
    // on, not once: a second error event without a listener would throw.
    connection.on("error", reject);
    connection.once("end", () => {
      if (quitting) resolve();
      else reject(mailFailure(endpoint, "unreachable", "the server closed the connection"));
    });
    connection.connect((error) => {
      if (error) return reject(error);
      // Without AUTH there is no password to check (nodemailer would try PLAIN regardless).
      if (!connection.allowsAuth) return reject(mailFailure(endpoint, "protocol", "it does not offer AUTH"));
      connection.login(login, (loginError) => {
        if (loginError) return reject(loginError);
        quitting = true;
        connection.quit();
      });
    });
  });
}
