import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.ts";
import { productionConnectors } from "../../src/connectors.ts";
import type { GatewayConnector } from "../../src/domain/connectors/gateway/index.ts";
import { isInteractive } from "../../src/domain/connectors/registry.ts";
import { capturedLogger } from "../support/logs.ts";

const { log } = capturedLogger();

describe("gateway configuration (GATEWAY_URL_<PROVIDER>)", () => {
  it("one gateway connector per configured provider, serving that provider's variants", () => {
    const config = loadConfig({ GATEWAY_URL_WHATSAPP: "127.0.0.1:50061", GATEWAY_URL_LINKEDIN: "gw-linkedin.internal:7000", GATEWAY_URL_TELEGRAM: "[::1]:7001" });
    expect(config.gateways).toEqual({ WHATSAPP: "127.0.0.1:50061", LINKEDIN: "gw-linkedin.internal:7000", TELEGRAM: "[::1]:7001" });
    const gateways = productionConnectors(config, log).filter(isInteractive) as GatewayConnector[];
    try {
      expect(gateways.map((g) => [g.provider, g.address, [...g.variants]])).toEqual([
        ["LINKEDIN", "gw-linkedin.internal:7000", ["linkedinBasic", "linkedinCookie"]],
        ["WHATSAPP", "127.0.0.1:50061", ["whatsapp"]],
        ["TELEGRAM", "[::1]:7001", ["telegram"]],
      ]);
    } finally {
      for (const g of gateways) g.close();
    }
  });

  it("none configured: WhatsApp and Telegram run in process, the other providers answer feature_not_implemented", () => {
    expect(loadConfig({}).gateways).toEqual({});
    const interactive = productionConnectors(loadConfig({}), log).filter(isInteractive);
    expect(interactive.map((c) => [...c.variants])).toEqual([["whatsapp", "telegram"]]);
  });

  it("a gateway for WhatsApp takes it out of the process; Telegram stays", () => {
    const interactive = productionConnectors(loadConfig({ GATEWAY_URL_WHATSAPP: "127.0.0.1:50061" }), log).filter(isInteractive);
    try {
      expect(interactive.map((c) => [...c.variants])).toEqual([["whatsapp"], ["telegram"]]);
      expect((interactive[0] as GatewayConnector).address).toBe("127.0.0.1:50061");
    } finally {
      (interactive[0] as GatewayConnector).close();
    }
  });

  it("TELEGRAM_API_ID / TELEGRAM_API_HASH: both or neither, checked, the hash never echoed", () => {
    expect(loadConfig({}).drivers.telegram).toBeUndefined();
    expect(loadConfig({ TELEGRAM_API_ID: "123456", TELEGRAM_API_HASH: "0123456789abcdef0123456789abcdef" }).drivers.telegram).toEqual({ apiId: 123456, apiHash: "0123456789abcdef0123456789abcdef" });
    expect(() => loadConfig({ TELEGRAM_API_ID: "123456" })).toThrow(/TELEGRAM_API_ID and TELEGRAM_API_HASH must be set together/);
    expect(() => loadConfig({ TELEGRAM_API_ID: "abc", TELEGRAM_API_HASH: "0123456789abcdef0123456789abcdef" })).toThrow(/TELEGRAM_API_ID must be a positive integer/);
    expect(() => loadConfig({ TELEGRAM_API_ID: "1", TELEGRAM_API_HASH: "S3CRET-not-hex" })).toThrow(/^TELEGRAM_API_HASH must be 32 hexadecimal characters$/);
    expect(loadConfig({ DRIVER_MAX_PENDING_SESSIONS: "3" }).drivers.maxPendingSessions).toBe(3);
    expect(() => loadConfig({ DRIVER_SESSION_TTL_MS: "0" })).toThrow(/DRIVER_SESSION_TTL_MS must be a positive integer/);
  });

  it.each(["http://127.0.0.1:50061", "127.0.0.1", "127.0.0.1:0", "127.0.0.1:70000", "host name:1"])("refuses %j", (value) => {
    expect(() => loadConfig({ GATEWAY_URL_TWITTER: value })).toThrow(/GATEWAY_URL_TWITTER must be host:port/);
  });

  it("INTENT_POLL_MS", () => {
    expect(loadConfig({}).intentPollMs).toBe(300);
    expect(loadConfig({ INTENT_POLL_MS: "100" }).intentPollMs).toBe(100);
  });
});
