import { describe, expect, it } from "vitest";
import { loadConfig, loadGatewayConfig, telegramApp } from "../../src/config.ts";
import { productionConnectors } from "../../src/connectors.ts";
import type { GatewayConnector } from "../../src/domain/connectors/gateway/index.ts";
import { isInteractive } from "../../src/domain/connectors/registry.ts";
import { capturedLogger } from "../support/logs.ts";

const { log } = capturedLogger();

describe("gateway configuration (GATEWAY_URL_<PROVIDER>)", () => {
  it("one gateway connector per configured provider, serving that provider's variants", async () => {
    const config = loadConfig({ GATEWAY_URL_WHATSAPP: "127.0.0.1:50061", GATEWAY_URL_LINKEDIN: "gw-linkedin.internal:7000", GATEWAY_URL_TELEGRAM: "[::1]:7001" });
    expect(config.gateways).toEqual({ WHATSAPP: "127.0.0.1:50061", LINKEDIN: "gw-linkedin.internal:7000", TELEGRAM: "[::1]:7001" });
    // The in-process host serves what is left (Instagram, Messenger).
    const gateways = (await productionConnectors(config, log)).filter((c): c is GatewayConnector => isInteractive(c) && "address" in c);
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

  const WEB = ["linkedinCookie", "linkedinBasic", "instagramCookie", "instagramBasic", "messengerSession", "messengerBasic", "twitter"];

  it("none configured: every interactive variant (WhatsApp, Telegram, the seven web ones) runs in process", async () => {
    expect(loadConfig({}).gateways).toEqual({});
    const interactive = (await productionConnectors(loadConfig({}), log)).filter(isInteractive);
    expect(interactive.map((c) => [...c.variants])).toEqual([["whatsapp", "telegram", ...WEB]]);
  });

  it("a gateway for LinkedIn takes both LinkedIn variants out of the process", async () => {
    const interactive = (await productionConnectors(loadConfig({ GATEWAY_URL_LINKEDIN: "127.0.0.1:50061" }), log)).filter(isInteractive);
    try {
      expect(interactive.map((c) => [...c.variants])).toEqual([["linkedinBasic", "linkedinCookie"], ["whatsapp", "telegram", ...WEB.filter((v) => !v.startsWith("linkedin"))]]);
    } finally {
      (interactive[0] as GatewayConnector).close();
    }
  });

  it("a gateway for WhatsApp takes it out of the process; Telegram stays", async () => {
    const interactive = (await productionConnectors(loadConfig({ GATEWAY_URL_WHATSAPP: "127.0.0.1:50061" }), log)).filter(isInteractive);
    try {
      expect(interactive.map((c) => [...c.variants])).toEqual([["whatsapp"], ["telegram", ...WEB]]);
      expect((interactive[0] as GatewayConnector).address).toBe("127.0.0.1:50061");
    } finally {
      (interactive[0] as GatewayConnector).close();
    }
  });

  it("TELEGRAM_API_ID / TELEGRAM_API_HASH: both or neither, checked, the hash never echoed", () => {
    expect(telegramApp(loadConfig({}).drivers)).toBeUndefined();
    expect(telegramApp(loadConfig({ TELEGRAM_API_ID: "123456", TELEGRAM_API_HASH: "0123456789abcdef0123456789abcdef" }).drivers)).toEqual({ apiId: 123456, apiHash: "0123456789abcdef0123456789abcdef" });
    expect(() => loadConfig({ TELEGRAM_API_ID: "123456" })).toThrow(/TELEGRAM_API_ID and TELEGRAM_API_HASH must be set together/);
    expect(() => loadConfig({ TELEGRAM_API_ID: "abc", TELEGRAM_API_HASH: "0123456789abcdef0123456789abcdef" })).toThrow(/TELEGRAM_API_ID must be a positive integer/);
    expect(() => loadConfig({ TELEGRAM_API_ID: "1", TELEGRAM_API_HASH: "S3CRET-not-hex" })).toThrow(/TELEGRAM_API_HASH must be 32 hexadecimal characters$/);
    expect(loadConfig({ DRIVER_MAX_PENDING_SESSIONS: "3" }).drivers.maxPendingSessions).toBe(3);
    expect(() => loadConfig({ DRIVER_SESSION_TTL_MS: "0" })).toThrow(/DRIVER_SESSION_TTL_MS must be a positive whole number of milliseconds/);
  });

  it("the gateway process reads its own subset, with the same rules", () => {
    const config = loadGatewayConfig({ GATEWAY_PORT: "7001", GATEWAY_ADVERTISE_ADDRESS: "gw-a.internal:7001", DRIVER_MAX_PENDING_SESSIONS: "5", GRPC_PORT: "not read here" });
    expect(config.listen).toEqual({ host: "127.0.0.1", port: 7001, advertiseAddress: "gw-a.internal:7001" });
    expect(config.drivers.maxPendingSessions).toBe(5);
    expect(config.webDrivers.linkedinBaseUrl).toBe("https://www.linkedin.com");
    expect(() => loadGatewayConfig({ TELEGRAM_API_HASH: "0123456789abcdef0123456789abcdef" })).toThrow(/TELEGRAM_API_ID and TELEGRAM_API_HASH must be set together/);
    expect(() => loadGatewayConfig({ GATEWAY_PORT: "70000" })).toThrow(/GATEWAY_PORT must be a port number/);
  });

  it("several replicas of one gateway: comma-separated, each checked", () => {
    expect(loadConfig({ GATEWAY_URL_WHATSAPP: "gw-a:50061,gw-b:50061" }).gateways.WHATSAPP).toBe("gw-a:50061,gw-b:50061");
    expect(() => loadConfig({ GATEWAY_URL_WHATSAPP: "gw-a:50061,http://gw-b:50061" })).toThrow(/GATEWAY_URL_WHATSAPP must be host:port/);
  });

  it.each(["http://127.0.0.1:50061", "127.0.0.1", "127.0.0.1:0", "127.0.0.1:70000", "host name:1"])("refuses %j", (value) => {
    expect(() => loadConfig({ GATEWAY_URL_TWITTER: value })).toThrow(/GATEWAY_URL_TWITTER must be host:port/);
  });

  it("INTENT_POLL_MS", () => {
    expect(loadConfig({}).intents.pollMs).toBe(15_000);
    expect(loadConfig({ INTENT_POLL_MS: "100" }).intents.pollMs).toBe(100);
  });
});
