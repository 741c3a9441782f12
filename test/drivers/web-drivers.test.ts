import { create } from "@bufbuild/protobuf";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LinkedinCookieAuthSchema } from "../../gen/postpress/accounts/v1/variants_pb.js";
import { loadConfig } from "../../src/config.ts";
import { linkedinCookieDriver } from "../../src/drivers/linkedin/cookie-driver.ts";
import { webDrivers } from "../../src/drivers/web-drivers.ts";
import { createDriverLab, drive, settled, type DriverLab } from "../support/drivers/drive.ts";
import { startFakeHttps } from "../support/drivers/fake-https.ts";
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
    const variants = webDrivers(loadConfig({}).webDrivers).flatMap((d) => d.variants);
    expect(variants.sort()).toEqual(["instagramBasic", "instagramCookie", "linkedinBasic", "linkedinCookie", "messengerBasic", "messengerSession", "twitter"]);
  });

  it("configuration errors name the setting", async () => {
    expect(() => loadConfig({ LINKEDIN_BASE_URL: "http://www.linkedin.com" })).toThrow(/LINKEDIN_BASE_URL must be an https:\/\/ URL/);
    expect(() => loadConfig({ DRIVERS_REQUEST_TIMEOUT_MS: "0" })).toThrow(/DRIVERS_REQUEST_TIMEOUT_MS must be a positive whole number/);
    const bad = join(tmpdir(), `drivers-ca-${process.pid}.pem`);
    await writeFile(bad, "not a certificate");
    expect(() => loadConfig({ DRIVERS_EXTRA_CA_FILE: bad })).toThrow(/DRIVERS_EXTRA_CA_FILE .*extra drivers CA file holds no PEM certificate/);
  });

  it("a provider slower than DRIVERS_REQUEST_TIMEOUT_MS is request_timeout", async () => {
    const slow = await startFakeHttps(lab.pki.server, () => ({ delayMs: 5_000, json: {} }));
    try {
      const env = lab.env({ LINKEDIN_BASE_URL: slow.url, DRIVERS_REQUEST_TIMEOUT_MS: "200" });
      expect(await settled(drive(linkedinCookieDriver(env), create(LinkedinCookieAuthSchema, { accessToken: "x" })))).toMatchObject({ status: "FAILED", errorKind: "request_timeout" });
    } finally {
      await slow.close();
    }
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
});
