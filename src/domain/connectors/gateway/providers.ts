import type { VariantCase } from "../connector.ts";

/**
 * The providers whose login runs through a provider-session gateway, and the request variants
 * each one's gateway serves (nine variants, six providers). Configuration names one gateway
 * endpoint per provider (GATEWAY_URL_<PROVIDER>).
 */
export const GATEWAY_PROVIDERS = {
  LINKEDIN: ["linkedinBasic", "linkedinCookie"],
  INSTAGRAM: ["instagramBasic", "instagramCookie"],
  MESSENGER: ["messengerBasic", "messengerSession"],
  TWITTER: ["twitter"],
  WHATSAPP: ["whatsapp"],
  TELEGRAM: ["telegram"],
} as const satisfies Record<string, readonly VariantCase[]>;

export type GatewayProvider = keyof typeof GATEWAY_PROVIDERS;
