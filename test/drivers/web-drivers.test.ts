import { create } from "@bufbuild/protobuf";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LinkedinCookieAuthSchema } from "../../gen/postpress/accounts/v1/variants_pb.js";
import { loadConfig } from "../../src/config.ts";
import { linkedinCookieDriver } from "../../src/drivers/linkedin/cookie-driver.ts";
import { webDrivers } from "../../src/drivers/web-drivers.ts";
import { WEB_VARIANTS } from "../../src/drivers/web-variants.ts";
import { createTargetGuard } from "../../src/net/target-guard.ts";
import { createDriverLab, drive, expectNoSecrets, settled, type DriverLab } from "../support/drivers/drive.ts";
import { startFakeLinkedin } from "../support/drivers/fake-linkedin.ts";
import { startConnectProxy } from "../support/proxy/connect-proxy.ts";
import { startSocks5Proxy } from "../support/proxy/socks5-proxy.ts";
import { ProxyProtocol, ProxySchema } from "../../gen/postpress/accounts/v1/options_pb.js";

let lab: DriverLab;
beforeAll(async () => {
  lab = await createDriverLab();
});
afterAll(async () => {
  await lab.close();
});

describe("the web drivers", () => {
  it("one driver per web variant, built from the default configuration", () => {
    const variants = webDrivers(loadConfig({}).webDrivers, createTargetGuard()).flatMap((d) => d.variants);
    expect(variants.sort()).toEqual(["instagramBasic", "instagramCookie", "linkedinBasic", "linkedinCookie", "messengerBasic", "messengerSession", "twitter"]);
    // What the server registers before loading them (src/drivers/index.ts) is the same list.
    expect([...WEB_VARIANTS].sort()).toEqual(variants);
  });

  it("configuration errors name the setting", async () => {
    expect(() => loadConfig({ LINKEDIN_BASE_URL: "http://www.linkedin.com" })).toThrow(/LINKEDIN_BASE_URL must be an https:\/\/ URL/);
    expect(() => loadConfig({ DRIVERS_REQUEST_TIMEOUT_MS: "0" })).toThrow(/DRIVERS_REQUEST_TIMEOUT_MS must be a positive whole number/);
    const bad = join(tmpdir(), `drivers-ca-${process.pid}.pem`);
    await writeFile(bad, "not a certificate");
    expect(() => loadConfig({ DRIVERS_EXTRA_CA_FILE: bad })).toThrow(/DRIVERS_EXTRA_CA_FILE .*extra drivers CA file holds no PEM certificate/);
  });

  it("a provider named by host name: the SOCKS5 proxy resolves it (domain address type), the CONNECT proxy gets host:port", async () => {
    const fake = await startFakeLinkedin(lab.pki.server);
    const socks = await startSocks5Proxy();
    const connect = await startConnectProxy();
    try {
      const port = new URL(fake.url).port;
      const env = lab.env({ LINKEDIN_BASE_URL: `https://localhost:${port}` });
      fake.addMember({ email: "h@example.com", password: "p", memberId: 7, firstName: "H", lastName: "N", publicIdentifier: "h" });
      for (const [proxy, protocol] of [[socks, ProxyProtocol.SOCKS5], [connect, ProxyProtocol.HTTP]] as const) {
        const d = drive(linkedinCookieDriver(env), create(LinkedinCookieAuthSchema, { accessToken: fake.cookieFor("h@example.com"), proxy: create(ProxySchema, { protocol, host: proxy.host, port: proxy.port }) }));
        expect(await settled(d)).toMatchObject({ status: "CONNECTED", identity: { providerUserId: "7" } });
        expect(proxy.tunnels).toContain(`localhost:${port}`);
      }
    } finally {
      await Promise.all([fake.close(), socks.close(), connect.close()]);
    }
  });

  describe("the target guard (PROVIDER_ALLOWED_NETWORKS)", () => {
    const PROXY_PASSWORD = "guard-proxy-Planted-Secret-5150";

    it("a proxy on loopback, a private or link-local network is target_not_allowed naming proxy.host, and is never dialled", async () => {
      const fake = await startFakeLinkedin(lab.pki.server);
      const proxy = await startConnectProxy();
      try {
        fake.addMember({ email: "g@example.com", password: "p", memberId: 8, firstName: "G", lastName: "N", publicIdentifier: "g" });
        // The provider stays reachable (127.0.0.1 allowed); the proxy is named by other loopback
        // forms, and by internal networks, none of them allowed.
        const env = lab.env({ LINKEDIN_BASE_URL: fake.url, PROVIDER_ALLOWED_NETWORKS: "127.0.0.1/32" });
        for (const host of ["127.0.0.2", "[::1]", "::ffff:127.0.0.2", "10.0.0.1", "192.168.1.1", "169.254.169.254"]) {
          for (const protocol of [ProxyProtocol.HTTP, ProxyProtocol.HTTPS, ProxyProtocol.SOCKS5]) {
            const viaProxy = create(ProxySchema, { protocol, host, port: proxy.port, username: "u", password: PROXY_PASSWORD });
            const d = drive(linkedinCookieDriver(env), create(LinkedinCookieAuthSchema, { accessToken: fake.cookieFor("g@example.com"), proxy: viaProxy }));
            const state = await settled(d);
            expect(state, `${host} (${protocol})`).toMatchObject({ status: "FAILED", errorKind: "target_not_allowed", errorMetadata: { field: "proxy.host" } });
            expectNoSecrets(d, [PROXY_PASSWORD], [state]);
          }
        }
        expect(proxy.tunnels).toEqual([]);
        // Allowed by the operator, the same proxy carries the login.
        const allowed = lab.env({ LINKEDIN_BASE_URL: fake.url, PROVIDER_ALLOWED_NETWORKS: "127.0.0.0/8,::1/128" });
        const d = drive(linkedinCookieDriver(allowed), create(LinkedinCookieAuthSchema, { accessToken: fake.cookieFor("g@example.com"), proxy: create(ProxySchema, { protocol: ProxyProtocol.HTTP, host: proxy.host, port: proxy.port }) }));
        expect(await settled(d)).toMatchObject({ status: "CONNECTED", identity: { providerUserId: "8" } });
        expect(proxy.tunnels.length).toBeGreaterThanOrEqual(1);
        expect(proxy.tunnels.every((t) => t === new URL(fake.url).host)).toBe(true);
      } finally {
        await Promise.all([fake.close(), proxy.close()]);
      }
    });

    it("a provider base URL on an internal network, not allowed, is target_not_allowed naming provider_url", async () => {
      const fake = await startFakeLinkedin(lab.pki.server);
      try {
        fake.addMember({ email: "b@example.com", password: "p", memberId: 9, firstName: "B", lastName: "N", publicIdentifier: "b" });
        const env = lab.env({ LINKEDIN_BASE_URL: fake.url, PROVIDER_ALLOWED_NETWORKS: "" });
        const d = drive(linkedinCookieDriver(env), create(LinkedinCookieAuthSchema, { accessToken: fake.cookieFor("b@example.com") }));
        expect(await settled(d)).toMatchObject({ status: "FAILED", errorKind: "target_not_allowed", errorMetadata: { field: "provider_url" } });
      } finally {
        await fake.close();
      }
    });
  });
});
