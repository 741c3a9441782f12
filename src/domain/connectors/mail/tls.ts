import { X509Certificate } from "node:crypto";
import { createSecureContext, getCACertificates, type ConnectionOptions, type SecureContext } from "node:tls";
import type { DialTarget } from "../../../net/target-guard.ts";

/**
 * The certificates a mail server may chain to: Node's default store, the operating
 * system's store and the operator's extra CAs. Built once per connector, because parsing
 * several hundred roots costs tens of milliseconds.
 */
export function createTrustStore(extraCaPem?: string | Buffer, label = "mail"): SecureContext {
  const roots = new Set([...getCACertificates("default"), ...getCACertificates("system")]);
  return createSecureContext({ ca: [...roots, ...extraCertificates(extraCaPem, label)] });
}

/**
 * TLS options for both libraries: verify against the trust store, never skip verification,
 * and verify (and send as SNI) the name the caller gave, though the checked address is dialled.
 */
export function tlsOptions(trust: SecureContext, target: DialTarget): ConnectionOptions {
  return { secureContext: trust, rejectUnauthorized: true, minVersion: "TLSv1.2", ...(target.servername ? { servername: target.servername } : {}) };
}

/**
 * Splits the operator's PEM into certificates and checks each one: Node silently ignores
 * a CA bundle it cannot read, which would turn a typo into "certificate not trusted" at
 * every connection instead of one clear error at startup.
 */
export function extraCertificates(pem: string | Buffer | undefined, label = "mail"): string[] {
  if (pem === undefined) return [];
  const blocks = pem.toString().match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new Error(`The extra ${label} CA file holds no PEM certificate.`);
  for (const block of blocks) {
    try {
      new X509Certificate(block);
    } catch (e) {
      throw new Error(`The extra ${label} CA file holds a certificate that cannot be read.`, { cause: e });
    }
  }
  return blocks;
}
