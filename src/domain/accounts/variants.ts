import { createHash } from "node:crypto";
import type { Variant, VariantCase } from "../connectors/connector.ts";
import { mailIdentity } from "../connectors/mail/identity.ts";

/** What the contract calls each variant: its provider and its authentication method. */
export const variantInfo = {
  linkedinBasic: { provider: "LINKEDIN", authMethod: "LINKEDIN_BASIC" },
  linkedinCookie: { provider: "LINKEDIN", authMethod: "LINKEDIN_COOKIE" },
  whatsapp: { provider: "WHATSAPP", authMethod: "WHATSAPP" },
  instagramBasic: { provider: "INSTAGRAM", authMethod: "INSTAGRAM_BASIC" },
  instagramCookie: { provider: "INSTAGRAM", authMethod: "INSTAGRAM_COOKIE" },
  messengerBasic: { provider: "MESSENGER", authMethod: "MESSENGER_BASIC" },
  messengerSession: { provider: "MESSENGER", authMethod: "MESSENGER_SESSION" },
  mail: { provider: "MAIL", authMethod: "MAIL" },
  googleOauth: { provider: "GOOGLE_OAUTH", authMethod: "GOOGLE_OAUTH" },
  telegram: { provider: "TELEGRAM", authMethod: "TELEGRAM" },
  outlook: { provider: "OUTLOOK", authMethod: "OUTLOOK" },
  twitter: { provider: "TWITTER", authMethod: "TWITTER" },
} as const satisfies Record<VariantCase, { provider: string; authMethod: string }>;

/**
 * Who a connection attempt is for, known before the provider answers: one open intent
 * per (workspace, provider, identity key). Secrets (tokens, cookies) are fingerprinted,
 * never kept in clear. Variants without any identity before the phone confirms
 * (WhatsApp by QR code, Telegram) get a fresh key: two QR codes never block each other.
 */
export function identityKeyOf(variant: Variant, freshKey: () => string): string {
  switch (variant.case) {
    case "linkedinBasic":
    case "instagramBasic":
    case "messengerBasic":
    case "twitter":
      return `user:${normalise(variant.value.username)}`;
    case "linkedinCookie":
      return `token:${fingerprint(variant.value.accessToken)}`;
    case "instagramCookie":
      return `token:${fingerprint(variant.value.sessionid)}`;
    case "messengerSession": {
      // c_user is Facebook's user id cookie: the same person's fresh cookies share it.
      const user = variant.value.cookies.find((c) => c.name === "c_user")?.value;
      return user ? `user:${user}` : `token:${fingerprint(variant.value.cookies.map((c) => `${c.name}=${c.value}`).sort().join(";"))}`;
    }
    case "mail":
      // The mailbox the MAIL connector will name: one normalisation of login and host for both.
      return `user:${mailIdentity(variant.value.imapUser, variant.value.imapHost).providerUserId}`;
    case "googleOauth":
      return `token:${fingerprint(variant.value.refreshToken)}`;
    case "outlook":
      return `user:${variant.value.id}`;
    case "whatsapp":
      return variant.value.pairingPhoneNumber ? `phone:${variant.value.pairingPhoneNumber.replace(/^\+/, "")}` : `qr:${freshKey()}`;
    case "telegram":
      return `qr:${freshKey()}`;
  }
}

function normalise(s: string): string {
  return s.trim().toLowerCase();
}

function fingerprint(secret: string): string {
  return createHash("sha256").update(secret).digest("base64url").slice(0, 22);
}
