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
    expect(() => loadConfig({ LINKEDIN_BASE_URL: "http://www.linkedin.com" })).toThrow(/LINKEDIN_BASE_URL must be an https:\/\/ origin/);
    expect(() => loadConfig({ TWITTER_API_BASE_URL: "https://api.x.com/1.1" })).toThrow(/TWITTER_API_BASE_URL/);
    expect(() => loadConfig({ DRIVERS_REQUEST_TIMEOUT_MS: "0" })).toThrow(/DRIVERS_REQUEST_TIMEOUT_MS must be a positive integer/);
    const bad = join(tmpdir(), `drivers-ca-${process.pid}.pem`);
    await writeFile(bad, "not a certificate");
    expect(() => webDrivers(loadConfig({ DRIVERS_EXTRA_CA_FILE: bad }).webDrivers)).toThrow(/extra drivers CA file holds no PEM certificate/);
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
});
