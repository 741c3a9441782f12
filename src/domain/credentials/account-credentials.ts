import type { Sealer } from "../../crypto/sealer.ts";
import type { AccountRecord, SealedBlob } from "../../store/store.ts";
import { openAccountSecrets, sealAccountSecrets, type AccountSecrets } from "../accounts/account-secrets.ts";
import { withUpdatedSecrets } from "../accounts/connected-account.ts";
import type { Variant } from "../connectors/connector.ts";
import type { RefreshedToken } from "../connectors/oauth/refresh.ts";

/**
 * The one place GetCredentials reads and writes an account's sealed payload: "sealed secrets →
 * the credentials an internal service gets" and "sealed secrets + a refreshed token → sealed
 * secrets". Everything else in domain/credentials sees only the types below, so a change of
 * the sealed format (issue 16 item 3) is a change of this file alone.
 */

export type OAuthProvider = "google" | "microsoft";

export interface MailServerLogin {
  host: string;
  port: number;
  username: string;
  password: string;
}

export interface MailCredentials {
  kind: "mail";
  imap: MailServerLogin;
  smtp: MailServerLogin;
  /** As the account was connected with: "tls", "ssl", "starttls" or "default". */
  imapEncryption: "tls" | "ssl" | "starttls" | "default" | "unspecified";
  /** 465 is implicit TLS, any other port STARTTLS (the MAIL connector's rule). */
  smtpEncryption: "tls" | "starttls";
}

export interface OAuthCredentials {
  kind: "oauth";
  provider: OAuthProvider;
  accessToken: string;
  refreshToken: string;
}

export interface SessionCookie {
  name: string;
  value: string;
  domain: string;
  path: string;
  secure: boolean;
  httpOnly: boolean;
  expirationDate: number;
  sameSite: number;
}

export interface ProviderSessionCredentials {
  kind: "provider_session";
  /** The driver's own session, when it sealed one. */
  session: { format: string; data: string } | undefined;
  cookies: SessionCookie[];
  headers: Record<string, string>;
  userAgent: string;
}

export interface ProxyCredentials {
  /** The ProxyProtocol name without its prefix: "HTTPS", "HTTP", "SOCKS5" or "UNSPECIFIED". */
  protocol: string;
  host: string;
  port: number;
  username: string;
  password: string;
}

export type Credentials = (MailCredentials | OAuthCredentials | ProviderSessionCredentials) & { proxy: ProxyCredentials | undefined };

/** The account's credentials, opened. A secret: never log it. */
export function openCredentials(sealer: Sealer, account: AccountRecord & { secrets: SealedBlob }): Credentials {
  const secrets = openAccountSecrets(sealer, account.secrets, account.workspaceId, account.id);
  return { ...credentialsOf(secrets), proxy: proxyOf(secrets.request.variant) };
}

/** The sealed payload with the refreshed access token (and rotated refresh token, when one came) in place of the old ones. */
export function sealRefreshed(sealer: Sealer, account: AccountRecord & { secrets: SealedBlob }, refreshed: RefreshedToken): SealedBlob {
  const secrets = openAccountSecrets(sealer, account.secrets, account.workspaceId, account.id);
  // A provider that sends no refresh token keeps the old one valid: it stays.
  const updated = { accessToken: refreshed.accessToken, ...(refreshed.refreshToken ? { refreshToken: refreshed.refreshToken } : {}) };
  const request = withUpdatedSecrets(secrets.request, updated) as AccountSecrets["request"];
  return sealAccountSecrets(sealer, { ...secrets, request }, account.workspaceId, account.id);
}

const imapEncryptions = { 0: "unspecified", 1: "tls", 2: "ssl", 3: "starttls", 4: "default" } as const;

function credentialsOf(secrets: AccountSecrets): MailCredentials | OAuthCredentials | ProviderSessionCredentials {
  const { variant } = secrets.request;
  switch (variant.case) {
    case "mail": {
      const mail = variant.value;
      return {
        kind: "mail",
        imap: { host: mail.imapHost, port: mail.imapPort, username: mail.imapUser, password: mail.imapPassword },
        smtp: { host: mail.smtpHost, port: mail.smtpPort, username: mail.smtpUser, password: mail.smtpPassword },
        imapEncryption: imapEncryptions[mail.imapEncryption] ?? "unspecified",
        smtpEncryption: mail.smtpPort === 465 ? "tls" : "starttls",
      };
    }
    case "googleOauth":
    case "outlook":
      return { kind: "oauth", provider: variant.case === "outlook" ? "microsoft" : "google", accessToken: variant.value.accessToken, refreshToken: variant.value.refreshToken };
    default:
      return { kind: "provider_session", session: secrets.session, ...sessionMaterialOf(variant) };
  }
}

/** What the connect request itself carried of a session: the cookies and headers a cookie login was given. */
function sessionMaterialOf(variant: Variant): Omit<ProviderSessionCredentials, "kind" | "session"> {
  const none = { cookies: [], headers: {}, userAgent: "" };
  const cookie = (name: string, value: string, domain: string): SessionCookie => ({ name, value, domain, path: "/", secure: true, httpOnly: true, expirationDate: 0, sameSite: 0 });
  switch (variant.case) {
    case "linkedinCookie": {
      const { accessToken, premiumToken, userAgent } = variant.value;
      const cookies = [cookie("li_at", accessToken, ".linkedin.com"), ...(premiumToken ? [cookie("li_a", premiumToken, ".linkedin.com")] : [])];
      return { ...none, cookies, userAgent };
    }
    case "instagramCookie":
      return { ...none, cookies: [cookie("sessionid", variant.value.sessionid, ".instagram.com")], userAgent: variant.value.userAgent };
    case "messengerSession":
      return {
        cookies: variant.value.cookies.map((c) => ({ name: c.name, value: c.value, domain: c.domain, path: c.path, secure: c.secure, httpOnly: c.httpOnly, expirationDate: c.expirationDate, sameSite: c.sameSite })),
        headers: { ...variant.value.headers },
        userAgent: variant.value.userAgent,
      };
    case "linkedinBasic":
    case "instagramBasic":
    case "messengerBasic":
      return { ...none, userAgent: variant.value.userAgent };
    default:
      return none;
  }
}

const proxyProtocols = { 0: "UNSPECIFIED", 1: "HTTPS", 2: "HTTP", 3: "SOCKS5" } as const;

function proxyOf(variant: Variant): ProxyCredentials | undefined {
  const proxy = "proxy" in variant.value ? variant.value.proxy : undefined;
  if (!proxy) return undefined;
  return { protocol: proxyProtocols[proxy.protocol] ?? "UNSPECIFIED", host: proxy.host, port: proxy.port, username: proxy.username, password: proxy.password };
}
