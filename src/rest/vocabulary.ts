import type { DescEnum } from "@bufbuild/protobuf";
import { AccountStatusSchema, ProviderSchema } from "../../gen/postpress/accounts/v1/account_pb.js";
import { DisabledFeatureSchema, MailSyncLimitSchema, ProxyProtocolSchema } from "../../gen/postpress/accounts/v1/options_pb.js";
import { CookieSameSiteSchema, ImapEncryptionSchema } from "../../gen/postpress/accounts/v1/variants_pb.js";
import type { CheckpointKind } from "../domain/connectors/interactive.ts";

/**
 * The original API's spelling of each enum the REST surface speaks, keyed by the proto enum:
 * `provider` "LINKEDIN", `imap_encryption` "tls", proxy `protocol` "socks5", cookie `sameSite`
 * "lax", `disabled_features` "linkedin_recruiter", mail `sync_limit` "NO_HISTORY_SYNC".
 * Every proto value but the zero one has exactly one contract string.
 */
const CONTRACT_STRINGS = new Map<DescEnum, Record<string, number>>([
  [ProviderSchema, { LINKEDIN: 1, WHATSAPP: 2, INSTAGRAM: 3, MESSENGER: 4, MAIL: 5, GOOGLE_OAUTH: 6, TELEGRAM: 7, OUTLOOK: 8, TWITTER: 9 }],
  [AccountStatusSchema, { CONNECTED: 1, DELETED: 2, CREDENTIALS_EXPIRED: 3, RECONNECTING: 4 }],
  [ImapEncryptionSchema, { tls: 1, ssl: 2, starttls: 3, default: 4 }],
  [ProxyProtocolSchema, { https: 1, http: 2, socks5: 3 }],
  // The contract lists "unspecified" as a value a browser export may carry: it is the zero value.
  [CookieSameSiteSchema, { unspecified: 0, no_restriction: 1, lax: 2, strict: 3 }],
  [DisabledFeatureSchema, { linkedin_recruiter: 1, linkedin_sales_navigator: 2, linkedin_organizations_mailboxes: 3 }],
  [MailSyncLimitSchema, { NO_HISTORY_SYNC: 1 }],
]);

/** The contract strings an enum accepts, for messages and the OpenAPI test. */
export function contractValues(desc: DescEnum): string[] {
  return Object.keys(CONTRACT_STRINGS.get(desc) ?? {});
}

/** "socks5" → ProxyProtocol.SOCKS5; undefined for anything the contract does not spell. */
export function fromContractString(desc: DescEnum, value: string): number | undefined {
  const table = CONTRACT_STRINGS.get(desc);
  return table && Object.hasOwn(table, value) ? table[value] : undefined;
}

/** ProxyProtocol.SOCKS5 → "socks5"; undefined for the zero value (unset). */
export function toContractString(desc: DescEnum, value: number): string | undefined {
  const table = CONTRACT_STRINGS.get(desc);
  if (!table || value === 0) return undefined;
  return Object.entries(table).find(([, n]) => n === value)?.[0];
}

/** The original API's checkpoint type names (the proto's comments give them). */
export const CHECKPOINT_TYPE_STRINGS: Record<CheckpointKind, string> = {
  TWO_FACTOR: "2FA",
  OTP: "OTP",
  IN_APP_VALIDATION: "IN_APP_VALIDATION",
  CAPTCHA: "CAPTCHA",
  PHONE_REGISTER: "PHONE_REGISTER",
  QR_CODE: "QRCODE",
  PAIRING_CODE: "PAIRING_CODE",
};
