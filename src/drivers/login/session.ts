import type { ProviderSession } from "../../domain/connectors/interactive.ts";

/** A driver's lasting credential: versioned JSON (cookies, device), sealed with the account. */
export function providerSession(format: string, data: Record<string, unknown>): ProviderSession {
  return { format, data: JSON.stringify(data) };
}
