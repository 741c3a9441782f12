import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { TelegramAuthSchema } from "../../gen/postpress/accounts/v1/variants_pb.js";
import { loadConfig } from "../../src/config.ts";
import { builtInDrivers } from "../../src/drivers/index.ts";
import { lazyDriver } from "../../src/drivers/lazy-driver.ts";
import { createTelegramDriver } from "../../src/drivers/telegram/driver.ts";
import { createTargetGuard } from "../../src/net/target-guard.ts";
import { FakeTelegram, telegramUser } from "../support/drivers/fake-gramjs.ts";
import { drive } from "../support/drivers/drive.ts";

const APP = { apiId: 123456, apiHash: "0123456789abcdef0123456789abcdef" };

describe("a driver loaded on its first login (lazy-driver.ts)", () => {
  it("loads the driver once, then runs each login through it as the driver itself would", async () => {
    const fake = new FakeTelegram();
    let loads = 0;
    const driver = lazyDriver(["telegram"], async () => {
      loads++;
      return createTelegramDriver({ app: APP, clientFactory: fake.factory, refreshMarginMs: 0 });
    });
    const first = drive(driver, create(TelegramAuthSchema, {}), "int_one");
    expect(first.login.current()).toEqual({ status: "PENDING", version: 0 });
    const checkpoint = await first.until("CHECKPOINT");
    expect(checkpoint.checkpoint!.type).toBe("QR_CODE");
    (await fake.client(0)).scan({ user: telegramUser() });
    expect((await first.until("CONNECTED")).identity?.providerUserId).toBe("777000123");
    const second = drive(driver, create(TelegramAuthSchema, {}), "int_two");
    await second.until("CHECKPOINT");
    await second.login.cancel();
    expect(second.states.at(-1)?.status).toBe("CANCELED");
    expect(loads).toBe(1);
  });

  it("a login canceled before its driver is loaded never begins, and ends CANCELED", async () => {
    let begun = 0;
    const driver = lazyDriver(["telegram"], async () => ({ variants: ["telegram"] as const, begin: () => (begun++, undefined as never) }));
    const run = drive(driver, create(TelegramAuthSchema, {}));
    await run.login.cancel();
    expect(begun).toBe(0);
    expect(run.states).toEqual([{ status: "CANCELED", version: 0 }]);
    await expect(run.login.solve("12345", new AbortController().signal)).rejects.toMatchObject({ kind: "no_pending_checkpoint" });
  });

  it("a driver that cannot be loaded fails the login (the next login tries again)", async () => {
    let attempts = 0;
    const driver = lazyDriver(["telegram"], async () => {
      attempts++;
      throw new Error("cannot load");
    });
    const run = drive(driver, create(TelegramAuthSchema, {}));
    expect(await run.until("FAILED")).toMatchObject({ errorKind: "unexpected_error" });
    await drive(driver, create(TelegramAuthSchema, {})).until("FAILED");
    expect(attempts).toBe(2);
  });

  it("the built-in drivers: Telegram without its credentials is still refused at once, before anything is loaded", () => {
    const drivers = builtInDrivers(loadConfig({}), createTargetGuard());
    const telegram = drivers.find((d) => d.variants.includes("telegram"))!;
    expect(() => drive(telegram, create(TelegramAuthSchema, {}))).toThrow(expect.objectContaining({ kind: "feature_not_implemented" }));
    expect(drivers.flatMap((d) => d.variants)).toContain("whatsapp");
  });
});
