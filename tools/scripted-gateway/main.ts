/**
 * The scripted provider-session gateway as a program: serves postpress.gateway.v1
 * ProviderGatewayService over plaintext gRPC (h2c) and plays each provider's documented
 * behaviours (see engine.ts). For tests, demos and local development; no provider is contacted.
 *
 *   node --disable-warning=ExperimentalWarning tools/scripted-gateway/main.ts
 *
 * Environment (all optional):
 *   GATEWAY_HOST            bind address (127.0.0.1)
 *   GATEWAY_PORT            port (50061)
 *   QR_ROTATE_MS            how often a QR code rotates (5000)
 *   SCAN_AFTER_MS           when a QR code gets scanned; "never" waits forever (12000)
 *   MAX_QR_CODES            unscanned QR codes before the authentication expires (6)
 *   PAIR_AFTER_MS           when a WhatsApp pairing code is confirmed; "never" (8000)
 *   IN_APP_AFTER_MS         when an in-app validation is approved; "never" (3000)
 *   CHECKPOINT_TTL_MS       how long a code or captcha checkpoint stays valid (300000)
 *   SLOW_MS                 how long "slow" logins take (2000)
 *   UNSUPPORTED_VARIANTS    comma-separated variants without a handler, e.g. messengerSession
 *
 * One JSON line per call on stdout (method, intent id, outcome): never a secret.
 */
import type { VariantCase } from "../../src/domain/connectors/connector.ts";
import { startScriptedGateway } from "./server.ts";

const env = process.env;

function ms(name: string, fallback: number): number;
function ms(name: string, fallback: number, nullable: true): number | null;
function ms(name: string, fallback: number, nullable = false): number | null {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  if (nullable && raw === "never") return null;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer${nullable ? ' or "never"' : ""}, got ${JSON.stringify(raw)}`);
  return value;
}

const gateway = await startScriptedGateway({
  host: env.GATEWAY_HOST || "127.0.0.1",
  port: ms("GATEWAY_PORT", 50061),
  qrRotateMs: ms("QR_ROTATE_MS", 5000),
  scanAfterMs: ms("SCAN_AFTER_MS", 12_000, true),
  maxQrCodes: ms("MAX_QR_CODES", 6),
  pairAfterMs: ms("PAIR_AFTER_MS", 8000, true),
  inAppAfterMs: ms("IN_APP_AFTER_MS", 3000, true),
  checkpointTtlMs: ms("CHECKPOINT_TTL_MS", 300_000),
  slowMs: ms("SLOW_MS", 2000),
  unsupported: (env.UNSUPPORTED_VARIANTS ?? "").split(",").map((s) => s.trim()).filter(Boolean) as VariantCase[],
  log: (line) => process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...line })}\n`),
});
process.stdout.write(`${JSON.stringify({ msg: "scripted gateway serving postpress.gateway.v1.ProviderGatewayService", address: gateway.address })}\n`);

const shutdown = () => {
  gateway.close().then(() => process.exit(0), () => process.exit(1));
};
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);
