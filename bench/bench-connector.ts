import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { Connector, ConnectorInput, ConnectorResult } from "../src/domain/connectors/connector.ts";

/**
 * The benchmark's stand-in for a provider: the WhatsApp (QR code) variant, answering with a
 * new provider identity on every call, after `delayMs` (0: at once, no timer at all).
 *
 * Why WhatsApp by QR code: h2load sends the same body on every request. For most variants
 * the intent's identity key comes from the request (e.g. `user:<twitter username>`), so a
 * fixed body would make every request after the first answer auth_in_progress. A QR-code
 * WhatsApp request carries no identity before the phone confirms, so the service gives each
 * intent a fresh key by design (variants.ts identityKeyOf: `qr:<ulid>`); this connector then
 * says who confirmed, a counter-based user id, so each call creates a new account and no
 * (workspace, provider, provider_user_id) ever collides.
 */
export function benchConnector(options: { delayMs?: number } = {}): Connector<"whatsapp"> & { readonly calls: number } {
  const delayMs = options.delayMs ?? 0;
  // Distinct per process, so servers sharing a database never hand out the same user id.
  const prefix = randomBytes(4).toString("hex");
  let calls = 0;
  return {
    variants: ["whatsapp"] as const,
    get calls() {
      return calls;
    },
    async connect(input: ConnectorInput<"whatsapp">): Promise<ConnectorResult> {
      const n = ++calls;
      if (delayMs > 0) await sleep(delayMs, undefined, { signal: input.signal });
      const phone = `1555${String(n).padStart(7, "0")}`;
      return {
        identity: { providerUserId: `${phone}-${prefix}@s.whatsapp.net`, displayName: `Bench ${n}`, handle: `+${phone}` },
      };
    },
  };
}
