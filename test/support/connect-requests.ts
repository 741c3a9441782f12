import type { JsonObject } from "@bufbuild/protobuf";

/**
 * One accounts-API ConnectAccountRequest per variant, in its proto JSON form, with every field
 * the variant has set (proxy, sync limits, cookies, headers, shared options): what the
 * credentials tests seal, translate and migrate. Every secret is a planted value starting with
 * "planted-", so a test can look for it in logs, errors and raw store bytes.
 * Plain JSON on purpose: tools/legacy-store-fixture/generate.ts feeds it to an old checkout's
 * own schema.
 */
const proxy = { protocol: "PROXY_PROTOCOL_SOCKS5", host: "proxy.example.com", port: 1080, username: "proxy-user", password: "planted-proxy-password" };
const history = { chats: { count: 50 }, messages: { since: "2025-01-02T03:04:05.678Z" } };
const shared = { country: "FR", ip: "203.0.113.7", disabledFeatures: ["DISABLED_FEATURE_LINKEDIN_RECRUITER"] };

export const VARIANT_REQUESTS: Record<string, JsonObject> = {
  mail: {
    ...shared,
    mail: {
      imapUser: "box@example.com", smtpUser: "box@example.com", imapPassword: "planted-imap-password", smtpPassword: "planted-smtp-password",
      imapHost: "imap.example.com", imapPort: 993, smtpHost: "smtp.example.com", smtpPort: 465, imapEncryption: "IMAP_ENCRYPTION_SSL", syncLimit: "MAIL_SYNC_LIMIT_NO_HISTORY_SYNC",
    },
  },
  googleOauth: { googleOauth: { refreshToken: "planted-google-refresh", accessToken: "planted-google-access" } },
  outlook: { outlook: { refreshToken: "planted-outlook-refresh", accessToken: "planted-outlook-access", username: "someone@contoso.example", id: "00000000-0000-0000-0000-0000000000aa" } },
  linkedinBasic: { ...shared, linkedinBasic: { username: "li-user", password: "planted-linkedin-password", syncLimit: history, proxy, userAgent: "UA/1.0", recruiterContractId: "contract-7" } },
  linkedinCookie: { linkedinCookie: { accessToken: "planted-li-at", premiumToken: "planted-li-a", syncLimit: history, proxy, userAgent: "UA/2.0", recruiterContractId: "contract-8" } },
  whatsapp: { whatsapp: { pairingPhoneNumber: "+33612345678", proxy } },
  instagramBasic: { instagramBasic: { username: "ig-user", password: "planted-instagram-password", syncLimit: history, proxy, userAgent: "UA/3.0" } },
  instagramCookie: { instagramCookie: { sessionid: "planted-ig-sessionid", syncLimit: history, proxy, userAgent: "UA/4.0" } },
  messengerBasic: { messengerBasic: { username: "fb-user", password: "planted-messenger-password", syncLimit: history, proxy, userAgent: "UA/5.0" } },
  messengerSession: {
    messengerSession: {
      // c_user is the Facebook user id, which the service keys intents by (not a secret); xs is the session.
      cookies: [
        { name: "c_user", value: "100012345678", domain: ".facebook.com", path: "/", secure: true, httpOnly: false, expirationDate: 1767225600.5, sameSite: "COOKIE_SAME_SITE_NO_RESTRICTION" },
        { name: "xs", value: "planted-cookie-xs" },
      ],
      headers: { "x-planted": "planted-header-value" },
      userName: "fb-session-user",
      syncLimit: history,
      proxy,
      userAgent: "UA/6.0",
    },
  },
  telegram: { telegram: { password: "planted-telegram-2fa", syncLimit: { chats: { since: "2024-06-01T00:00:00Z" } } } },
  twitter: { twitter: { username: "x-user", email: "x@example.com", password: "planted-twitter-password" } },
};

/** A driver's provider session, as the gateway hands it over on CONNECTED. */
export const PLANTED_SESSION = { format: "baileys-auth/v1", data: '{"creds":"planted-session-material"}' };

/** Every planted secret above (a value to search for in bytes and text). */
export function plantedSecrets(): string[] {
  const found = new Set<string>(["planted-session-material"]);
  const walk = (v: unknown) => {
    if (typeof v === "string" && v.startsWith("planted-")) found.add(v);
    else if (v && typeof v === "object") Object.values(v).forEach(walk);
  };
  walk(VARIANT_REQUESTS);
  return [...found];
}
