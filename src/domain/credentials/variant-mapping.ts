import { OauthProvider, WebLoginVariant } from "../../../gen/postpress/credentials/v1/credentials_pb.js";
import type { VariantCase } from "../connectors/connector.ts";

/**
 * Where each accounts-API variant's fields live in the domain's credentials (credentials.proto):
 * the one table both directions of the translation read, so they cannot drift apart.
 *
 * `family` is the Credentials oneof case, `fixed` the field that tells variants of one family
 * apart (the OAuth provider, the web login variant), and `fields` maps an API field name to the
 * domain field holding it. Fields not listed here (proxy, sync_limit) are handled by shape in
 * connect-request.ts: every variant that has them has them under the same name.
 */
export interface VariantMapping {
  family: "mail" | "oauth" | "webLogin";
  fixed: { field: "provider" | "variant"; value: number } | undefined;
  fields: Readonly<Record<string, string>>;
}

const same = (...names: string[]) => Object.fromEntries(names.map((n) => [n, n]));
const webLogin = (variant: WebLoginVariant, fields: Record<string, string>): VariantMapping => ({ family: "webLogin", fixed: { field: "variant", value: variant }, fields });
const oauth = (provider: OauthProvider, fields: Record<string, string>): VariantMapping => ({ family: "oauth", fixed: { field: "provider", value: provider }, fields });

export const VARIANT_MAPPINGS: Readonly<Record<VariantCase, VariantMapping>> = {
  mail: {
    family: "mail",
    fixed: undefined,
    // ImapEncryption and MailEncryption share their numbers.
    fields: same("imapHost", "imapPort", "imapUser", "imapPassword", "imapEncryption", "smtpHost", "smtpPort", "smtpUser", "smtpPassword"),
  },
  googleOauth: oauth(OauthProvider.GOOGLE, same("accessToken", "refreshToken")),
  outlook: oauth(OauthProvider.MICROSOFT, { ...same("accessToken", "refreshToken", "username"), id: "userId" }),
  linkedinBasic: webLogin(WebLoginVariant.LINKEDIN_BASIC, same("username", "password", "userAgent", "recruiterContractId")),
  linkedinCookie: webLogin(WebLoginVariant.LINKEDIN_COOKIE, { ...same("premiumToken", "userAgent", "recruiterContractId"), accessToken: "sessionToken" }),
  whatsapp: webLogin(WebLoginVariant.WHATSAPP, same("pairingPhoneNumber")),
  instagramBasic: webLogin(WebLoginVariant.INSTAGRAM_BASIC, same("username", "password", "userAgent")),
  instagramCookie: webLogin(WebLoginVariant.INSTAGRAM_COOKIE, { ...same("userAgent"), sessionid: "sessionToken" }),
  messengerBasic: webLogin(WebLoginVariant.MESSENGER_BASIC, same("username", "password", "userAgent")),
  messengerSession: webLogin(WebLoginVariant.MESSENGER_SESSION, { ...same("cookies", "headers", "userAgent"), userName: "username" }),
  telegram: webLogin(WebLoginVariant.TELEGRAM, same("password")),
  twitter: webLogin(WebLoginVariant.TWITTER, same("username", "email", "password")),
};
