import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.ts";
import { productionConnectors } from "../../src/connectors.ts";
import type { GatewayConnector } from "../../src/domain/connectors/gateway/index.ts";
import { isInteractive } from "../../src/domain/connectors/registry.ts";

describe("gateway configuration (GATEWAY_URL_<PROVIDER>)", () => {
  it("one gateway connector per configured provider, serving that provider's variants", () => {
    const config = loadConfig({ GATEWAY_URL_WHATSAPP: "127.0.0.1:50061", GATEWAY_URL_LINKEDIN: "gw-linkedin.internal:7000", GATEWAY_URL_TELEGRAM: "[::1]:7001" });
    expect(config.gateways).toEqual({ WHATSAPP: "127.0.0.1:50061", LINKEDIN: "gw-linkedin.internal:7000", TELEGRAM: "[::1]:7001" });
    const gateways = productionConnectors(config).filter(isInteractive) as GatewayConnector[];
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

  it("none configured: no gateway connector (those variants answer feature_not_implemented)", () => {
    expect(loadConfig({}).gateways).toEqual({});
    expect(productionConnectors(loadConfig({})).filter(isInteractive)).toEqual([]);
  });

  it.each(["http://127.0.0.1:50061", "127.0.0.1", "127.0.0.1:0", "127.0.0.1:70000", "host name:1"])("refuses %j", (value) => {
    expect(() => loadConfig({ GATEWAY_URL_TWITTER: value })).toThrow(/GATEWAY_URL_TWITTER must be host:port/);
  });

  it("INTENT_POLL_MS", () => {
    expect(loadConfig({}).intentPollMs).toBe(15_000);
    expect(loadConfig({ INTENT_POLL_MS: "100" }).intentPollMs).toBe(100);
  });
});
