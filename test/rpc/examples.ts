import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ConnectAccountRequestSchema } from "../../gen/postpress/accounts/v1/account_service_pb.js";
import { DisabledFeature, MailSyncLimit, ProxyProtocol } from "../../gen/postpress/accounts/v1/options_pb.js";
import { CookieSameSite, ImapEncryption } from "../../gen/postpress/accounts/v1/variants_pb.js";
import type { VariantCase } from "../../src/domain/connectors/connector.ts";

export type ConnectInit = MessageInitShape<typeof ConnectAccountRequestSchema>;

/** The proto (snake_case) name of each variant's oneof field, as field paths name it. */
export const variantField: Record<VariantCase, string> = {
  linkedinBasic: "linkedin_basic",
  linkedinCookie: "linkedin_cookie",
  whatsapp: "whatsapp",
  instagramBasic: "instagram_basic",
  instagramCookie: "instagram_cookie",
  messengerBasic: "messenger_basic",
  messengerSession: "messenger_session",
  mail: "mail",
  googleOauth: "google_oauth",
  telegram: "telegram",
  outlook: "outlook",
  twitter: "twitter",
};

export interface ExampleOptions {
  /** Fills every secret field; a test can then look for the values it handed out. */
  secret?: (label: string) => string;
  /** Login / user name, so parallel calls do not share an intent. */
  login?: string;
}

/**
 * A valid request of each of the 12 variants with every option it accepts filled in
 * (shared options, sync limit, proxy with password, user agent, ...).
 */
export function validRequest(variant: VariantCase, options: ExampleOptions = {}): ConnectInit {
  const secret = options.secret ?? ((label: string) => `example-${label}`);
  const login = options.login ?? "anna@acme.com";
  const shared = {
    country: "FR",
    ip: "203.0.113.7",
    disabledFeatures: [DisabledFeature.LINKEDIN_RECRUITER, DisabledFeature.LINKEDIN_SALES_NAVIGATOR],
  };
  const syncLimit = {
    chats: { bound: { case: "count" as const, value: 500 } },
    messages: { bound: { case: "since" as const, value: timestampFromDate(new Date("2025-12-31T23:59:59.999Z")) } },
  };
  const proxy = { protocol: ProxyProtocol.SOCKS5, host: "proxy.example.net", port: 1080, username: "proxy-user", password: secret("proxy-password") };
  const userAgent = "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0";
  switch (variant) {
    case "linkedinBasic":
      return { ...shared, variant: { case: variant, value: { username: login, password: secret("password"), syncLimit, proxy, userAgent, recruiterContractId: "rc-42" } } };
    case "linkedinCookie":
      return { ...shared, variant: { case: variant, value: { accessToken: secret("li_at"), premiumToken: secret("li_a"), syncLimit, proxy, userAgent, recruiterContractId: "rc-42" } } };
    case "whatsapp":
      return { ...shared, ip: "2001:db8::17", variant: { case: variant, value: { pairingPhoneNumber: "+33612345678", proxy } } };
    case "instagramBasic":
      return { ...shared, variant: { case: variant, value: { username: login, password: secret("password"), syncLimit, proxy, userAgent } } };
    case "instagramCookie":
      return { ...shared, variant: { case: variant, value: { sessionid: secret("sessionid"), syncLimit, proxy, userAgent } } };
    case "messengerBasic":
      return { ...shared, variant: { case: variant, value: { username: login, password: secret("password"), syncLimit, proxy, userAgent } } };
    case "messengerSession":
      return {
        ...shared,
        variant: {
          case: variant,
          value: {
            cookies: [
              { name: "c_user", value: secret("cookie-c_user"), domain: ".facebook.com", path: "/", secure: true, httpOnly: false, expirationDate: 1798761599.5, sameSite: CookieSameSite.NO_RESTRICTION },
              { name: "xs", value: secret("cookie-xs"), domain: ".facebook.com", path: "/", secure: true, httpOnly: true, sameSite: CookieSameSite.LAX },
            ],
            headers: { "x-fb-lsd": secret("header-lsd"), "x-asbd-id": secret("header-asbd") },
            userName: login,
            syncLimit,
            proxy,
            userAgent,
          },
        },
      };
    case "mail":
      return {
        ...shared,
        variant: {
          case: variant,
          value: {
            imapUser: login,
            smtpUser: login,
            imapPassword: secret("imap-password"),
            smtpPassword: secret("smtp-password"),
            imapHost: "imap.example.com",
            imapPort: 993,
            smtpHost: "198.51.100.25",
            smtpPort: 465,
            imapEncryption: ImapEncryption.TLS,
            syncLimit: MailSyncLimit.NO_HISTORY_SYNC,
          },
        },
      };
    case "googleOauth":
      return { ...shared, variant: { case: variant, value: { refreshToken: secret("refresh-token"), accessToken: secret("access-token"), syncLimit: MailSyncLimit.NO_HISTORY_SYNC } } };
    case "telegram":
      return { ...shared, variant: { case: variant, value: { password: secret("password"), syncLimit } } };
    case "outlook":
      return {
        ...shared,
        variant: { case: variant, value: { refreshToken: secret("refresh-token"), accessToken: secret("access-token"), username: login, id: "00000001-1111-2222-3333-444444444444", syncLimit: MailSyncLimit.NO_HISTORY_SYNC } },
      };
    case "twitter":
      return { ...shared, variant: { case: variant, value: { username: login, email: "anna@acme.com", password: secret("password") } } };
  }
}

/** The smallest valid request of each variant: its required fields only. */
export function minimalRequest(variant: VariantCase): ConnectInit {
  switch (variant) {
    case "linkedinBasic":
    case "instagramBasic":
    case "messengerBasic":
      return { variant: { case: variant, value: { username: "anna", password: "pw" } } };
    case "linkedinCookie":
      return { variant: { case: variant, value: { accessToken: "AQED" } } };
    case "whatsapp":
      return { variant: { case: variant, value: {} } };
    case "instagramCookie":
      return { variant: { case: variant, value: { sessionid: "sid" } } };
    case "messengerSession":
      return { variant: { case: variant, value: { cookies: [{ name: "c_user", value: "1" }] } } };
    case "mail":
      return {
        variant: {
          case: variant,
          value: { imapUser: "u", smtpUser: "u", imapPassword: "p", smtpPassword: "p", imapHost: "imap.example.com", imapPort: 1, smtpHost: "smtp.example.com", smtpPort: 65535, imapEncryption: ImapEncryption.DEFAULT },
        },
      };
    case "googleOauth":
      return { variant: { case: variant, value: { refreshToken: "r", accessToken: "a" } } };
    case "telegram":
      return { variant: { case: variant, value: {} } };
    case "outlook":
      return { variant: { case: variant, value: { refreshToken: "r", accessToken: "a", username: "u@contoso.com", id: "1" } } };
    case "twitter":
      return { variant: { case: variant, value: { username: "anna", email: "anna@acme.com", password: "pw" } } };
  }
}
