import type { SecureContext } from "node:tls";
import { createTargetGuard, type DialTarget, type TargetGuard } from "../../../net/target-guard.ts";
import type { Connector } from "../connector.ts";
import { bounded, type CheckContext } from "./check.ts";
import { toMailError, type Endpoint } from "./errors.ts";
import { mailIdentity, normaliseHost } from "./identity.ts";
import { checkImap, imapSecurity } from "./imap.ts";
import { checkSmtp, smtpSecurity } from "./smtp.ts";
import { createTrustStore, extraCertificates } from "./tls.ts";

export interface MailConnectorConfig {
  /** CA certificates (PEM) trusted besides the system store, e.g. the contents of MAIL_EXTRA_CA_FILE. */
  extraCaPem?: string | Buffer;
  /** Longest wait for TCP, TLS and the greeting, per protocol (default 15 s); the request deadline applies too. */
  connectTimeoutMs?: number;
  /** Which addresses the mail servers may resolve to (default: no internal network). */
  guard?: TargetGuard;
}

/**
 * Verifies an IMAP/SMTP mailbox: both logins must pass. The two checks run concurrently;
 * the first failure stops the other, and both sockets are closed before connect() settles.
 */
export function createMailConnector(config: MailConnectorConfig = {}): Connector<"mail"> {
  // The trust store (hundreds of roots to parse, tens of ms) is built on the first mail
  // connect; the operator's extra CAs are checked now, so a bad file still fails the start.
  extraCertificates(config.extraCaPem);
  let trust: SecureContext | undefined;
  const connectTimeoutMs = config.connectTimeoutMs ?? 15_000;
  const guard = config.guard ?? createTargetGuard();
  return {
    variants: ["mail"],
    async connect({ variant, signal, deadline, log }) {
      const imap: Endpoint = { protocol: "imap", host: normaliseHost(variant.imapHost), port: variant.imapPort };
      const smtp: Endpoint = { protocol: "smtp", host: normaliseHost(variant.smtpHost), port: variant.smtpPort };
      const imapMode = imapSecurity(variant.imapEncryption, imap.port);
      const smtpMode = smtpSecurity(smtp.port);
      log.debug({ imap: { ...imap, security: imapMode }, smtp: { ...smtp, security: smtpMode } }, "checking mailbox");

      trust ??= createTrustStore(config.extraCaPem);
      const sibling = new AbortController();
      const ctx: CheckContext = { trust, connectTimeoutMs, deadline, stop: AbortSignal.any([signal, sibling.signal]) };
      // Both hosts pass the guard before either is dialled; IMAP's refusal is reported first.
      const [imapTarget, smtpTarget] = await Promise.allSettled([dialTarget(guard, imap, ctx), dialTarget(guard, smtp, ctx)]);
      if (imapTarget.status === "rejected") throw imapTarget.reason;
      if (smtpTarget.status === "rejected") throw smtpTarget.reason;
      let failure: unknown;
      const watch = (check: Promise<void>) =>
        check.catch((error: unknown) => {
          failure ??= error;
          sibling.abort(error);
        });
      await Promise.all([
        watch(checkImap(imap, imapTarget.value, imapMode, { user: variant.imapUser, pass: variant.imapPassword }, ctx)),
        watch(checkSmtp(smtp, smtpTarget.value, smtpMode, { user: variant.smtpUser, pass: variant.smtpPassword }, ctx)),
      ]);
      if (failure !== undefined) throw failure;

      return {
        identity: mailIdentity(variant.imapUser, variant.imapHost),
        details: { imapSecurity: imapMode, smtpSecurity: smtpMode },
      };
    },
  };
}

/** Resolves and checks one server's host once; the check then dials the address it answers. */
async function dialTarget(guard: TargetGuard, endpoint: Endpoint, ctx: CheckContext): Promise<DialTarget> {
  try {
    return await bounded(endpoint, ctx, () => guard.resolve(endpoint.host, `mail.${endpoint.protocol}_host`));
  } catch (error) {
    throw toMailError(endpoint, error);
  }
}
