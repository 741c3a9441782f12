import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  OauthProvider,
  WebLoginVariant,
  type Credentials as SealedCredentials,
  type ProxyCredentials as SealedProxy,
  type WebLoginCredentials,
} from "../../../gen/postpress/credentials/v1/credentials_pb.js";
import type { Sealer } from "../../crypto/sealer.ts";
import { AppError } from "../../errors/app-error.ts";
import type { SealedAccount, SealedBlob } from "../../store/store.ts";
import type { ProviderSession } from "../connectors/interactive.ts";
import type { RefreshedToken } from "../connectors/oauth/refresh.ts";
import { openCredentials as openStored, sealCredentials } from "./sealed-credentials.ts";

/**
 * The one place GetCredentials reads and writes an account's sealed payload: "the sealed
 * domain credentials (credentials.proto) → the credentials an internal service gets" and
 * "sealed credentials + a refreshed token → sealed credentials". Everything else in
 * domain/credentials sees only the types below.
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
export function openCredentials(sealer: Sealer, account: SealedAccount & { secrets: SealedBlob }): Credentials {
  const { credentials, session } = openStored(sealer, account.secrets, account.workspaceId, account.id);
  return { ...credentialsOf(credentials, session), proxy: credentials.proxy && proxyOf(credentials.proxy) };
}

/**
 * The sealed credentials with the refreshed access token (and rotated refresh token, when one
 * came), its expiry and granted scopes in place of the old ones; every other field, the
 * settings and the session stay as they were.
 */
export function sealRefreshed(sealer: Sealer, account: SealedAccount & { secrets: SealedBlob }, refreshed: RefreshedToken): SealedBlob {
  const stored = openStored(sealer, account.secrets, account.workspaceId, account.id);
  const { family } = stored.credentials;
  if (family.case !== "oauth") throw new AppError("unexpected_error", { detail: "The account's credentials are no longer OAuth tokens." });
  const oauth = family.value;
  oauth.accessToken = refreshed.accessToken;
  // A provider that sends no refresh token keeps the old one valid: it stays.
  if (refreshed.refreshToken) oauth.refreshToken = refreshed.refreshToken;
  oauth.accessTokenExpiresAt = refreshed.expiresAt && timestampFromDate(refreshed.expiresAt);
  // A grant that does not name its scopes keeps those the token had (RFC 6749 §5.1).
  if (refreshed.scopes.length > 0) oauth.scopes = [...refreshed.scopes];
  return sealCredentials(sealer, stored, account.workspaceId, account.id);
}

/** MailEncryption's numbers (credentials.proto), named as the GetCredentials answer names them. */
const imapEncryptions = { 0: "unspecified", 1: "tls", 2: "ssl", 3: "starttls", 4: "default" } as const;
const oauthProviders: Partial<Record<OauthProvider, OAuthProvider>> = { [OauthProvider.GOOGLE]: "google", [OauthProvider.MICROSOFT]: "microsoft" };

function credentialsOf(credentials: SealedCredentials, session: ProviderSession | undefined): MailCredentials | OAuthCredentials | ProviderSessionCredentials {
  const { family } = credentials;
  switch (family.case) {
    case "mail": {
      const mail = family.value;
      return {
        kind: "mail",
        imap: { host: mail.imapHost, port: mail.imapPort, username: mail.imapUser, password: mail.imapPassword },
        smtp: { host: mail.smtpHost, port: mail.smtpPort, username: mail.smtpUser, password: mail.smtpPassword },
        imapEncryption: imapEncryptions[mail.imapEncryption] ?? "unspecified",
        smtpEncryption: mail.smtpPort === 465 ? "tls" : "starttls",
      };
    }
    case "oauth": {
      const provider = oauthProviders[family.value.provider];
      if (!provider) throw new AppError("unexpected_error", { detail: "The sealed credentials name no known OAuth provider." });
      return { kind: "oauth", provider, accessToken: family.value.accessToken, refreshToken: family.value.refreshToken };
    }
    case "webLogin":
      return { kind: "provider_session", session, ...sessionMaterialOf(family.value) };
    default:
      throw new AppError("unexpected_error", { detail: "The sealed credentials name no provider family." });
  }
}

/** What the login itself carried of a session: the cookies and headers a cookie login was given. */
function sessionMaterialOf(login: WebLoginCredentials): Omit<ProviderSessionCredentials, "kind" | "session"> {
  const none = { cookies: [], headers: {}, userAgent: "" };
  const cookie = (name: string, value: string, domain: string): SessionCookie => ({ name, value, domain, path: "/", secure: true, httpOnly: true, expirationDate: 0, sameSite: 0 });
  switch (login.variant) {
    case WebLoginVariant.LINKEDIN_COOKIE: {
      const cookies = [cookie("li_at", login.sessionToken, ".linkedin.com"), ...(login.premiumToken ? [cookie("li_a", login.premiumToken, ".linkedin.com")] : [])];
      return { ...none, cookies, userAgent: login.userAgent };
    }
    case WebLoginVariant.INSTAGRAM_COOKIE:
      return { ...none, cookies: [cookie("sessionid", login.sessionToken, ".instagram.com")], userAgent: login.userAgent };
    case WebLoginVariant.MESSENGER_SESSION:
      return {
        // WebCookieSameSite shares the API's CookieSameSite numbers.
        cookies: login.cookies.map((c) => ({ name: c.name, value: c.value, domain: c.domain, path: c.path, secure: c.secure, httpOnly: c.httpOnly, expirationDate: c.expirationDate, sameSite: c.sameSite })),
        headers: { ...login.headers },
        userAgent: login.userAgent,
      };
    case WebLoginVariant.LINKEDIN_BASIC:
    case WebLoginVariant.INSTAGRAM_BASIC:
    case WebLoginVariant.MESSENGER_BASIC:
      return { ...none, userAgent: login.userAgent };
    default:
      return none;
  }
}

/** ProxyType's numbers (credentials.proto), named as the API's ProxyProtocol names them. */
const proxyProtocols = { 0: "UNSPECIFIED", 1: "HTTPS", 2: "HTTP", 3: "SOCKS5" } as const;

function proxyOf(proxy: SealedProxy): ProxyCredentials {
  return { protocol: proxyProtocols[proxy.type] ?? "UNSPECIFIED", host: proxy.host, port: proxy.port, username: proxy.username, password: proxy.password };
}
