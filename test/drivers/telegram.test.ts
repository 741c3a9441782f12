import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { TelegramAuthSchema } from "../../gen/postpress/accounts/v1/variants_pb.js";
import { createTelegramDriver } from "../../src/drivers/telegram/driver.ts";
import { reopenTelegram } from "../../src/drivers/telegram/reopen.ts";
import { FakeTelegram, telegramUser } from "../support/drivers/fake-gramjs.ts";
import { drive } from "../support/drivers/drive.ts";

const APP = { apiId: 123456, apiHash: "0123456789abcdef0123456789abcdef" };
const PASSWORD = "S3CRET-tg-2fa-password";

function driverFor(fake: FakeTelegram) {
  return createTelegramDriver({ app: APP, clientFactory: fake.factory, refreshMarginMs: 0 });
}

async function qrShown(fake: FakeTelegram, password = "") {
  const run = drive(driverFor(fake), create(TelegramAuthSchema, { password }));
  const client = await fake.client(0);
  const checkpoint = await run.until((s) => s.status === "CHECKPOINT");
  return { run, client, checkpoint };
}

describe("Telegram driver (GramJS, faked at its client)", () => {
  it("QR login: tg://login token, renewed before it expires, scanned, connected with the StringSession", async () => {
    const fake = new FakeTelegram();
    fake.configure = (client) => (client.tokenLifetimeS = 1);
    const { run, client, checkpoint } = await qrShown(fake);
    expect(checkpoint.checkpoint).toMatchObject({ type: "QR_CODE" });
    expect(checkpoint.checkpoint!.qrCode).toMatch(/^tg:\/\/login\?token=[\w-]{32}$/);
    expect(client.options).toMatchObject({ session: "", apiId: APP.apiId, apiHash: APP.apiHash });
    // The token lives 1 s here: a new one is exported and shown before it expires.
    const renewed = await run.until((s) => s.status === "CHECKPOINT" && s.checkpoint!.qrCode !== checkpoint.checkpoint!.qrCode);
    expect(renewed.checkpoint!.type).toBe("QR_CODE");
    client.scan({ user: telegramUser() });
    const connected = await run.until((s) => s.status === "CONNECTED");
    expect(connected.identity).toEqual({ providerUserId: "777000123", handle: "anna_k", displayName: "Anna K" });
    expect(connected.details).toEqual({ phone: "+33612345678" });
    expect(connected.session).toEqual({ format: "gramjs-string-session/v1", data: client.session.save() });
    expect(connected.session!.data).toMatch(/^1/);
    expect(client.destroyed).toBe(true);
    expect(run.lines.join("\n")).not.toContain(connected.session!.data);
  });

  it("resend exports a new QR token at once", async () => {
    const fake = new FakeTelegram();
    const { run, checkpoint } = await qrShown(fake);
    const resent = await run.login.resend(AbortSignal.timeout(5000));
    expect(resent.checkpoint!.qrCode).not.toBe(checkpoint.checkpoint!.qrCode);
    await run.login.cancel();
  });

  it("an account in another data center: LoginTokenMigrateTo, switch, import, connected", async () => {
    const fake = new FakeTelegram();
    const { run, client } = await qrShown(fake);
    client.scan({ user: telegramUser(), dcId: 4 });
    await run.until((s) => s.status === "CONNECTED");
    expect(client.switchedTo).toEqual([4]);
    expect(client.calls).toContain("auth.ImportLoginToken");
  });

  it("two-step verification answered by the variant's password", async () => {
    const fake = new FakeTelegram();
    const { run, client } = await qrShown(fake, PASSWORD);
    client.scan({ user: telegramUser(), password: PASSWORD });
    await run.until((s) => s.status === "CONNECTED");
    expect(run.states.some((s) => s.checkpoint?.type === "TWO_FACTOR")).toBe(false);
    expect(client.calls).toContain("auth.CheckPassword");
    expect(JSON.stringify(run.states) + run.lines.join("\n")).not.toContain(PASSWORD);
  });

  it("a wrong password in the variant fails the login with invalid_credentials", async () => {
    const fake = new FakeTelegram();
    const { run, client } = await qrShown(fake, "not-the-password");
    client.scan({ user: telegramUser(), password: PASSWORD });
    expect(await run.until((s) => s.status === "FAILED")).toMatchObject({ errorKind: "invalid_credentials" });
    expect(client.destroyed).toBe(true);
  });

  it("TWO_FACTOR checkpoint: a wrong password is invalid_checkpoint_code and the checkpoint stays open, then the right one connects", async () => {
    const fake = new FakeTelegram();
    const { run, client } = await qrShown(fake);
    client.scan({ user: telegramUser(), password: PASSWORD });
    await run.until((s) => s.checkpoint?.type === "TWO_FACTOR");
    await expect(run.login.solve("wrong-password", AbortSignal.timeout(10_000))).rejects.toMatchObject({ kind: "invalid_checkpoint_code" });
    expect(run.login.current()).toMatchObject({ status: "CHECKPOINT", checkpoint: { type: "TWO_FACTOR" } });
    await expect(run.login.resend(AbortSignal.timeout(1000))).rejects.toMatchObject({ kind: "no_pending_checkpoint" });
    const state = await run.login.solve(PASSWORD, AbortSignal.timeout(10_000));
    expect(state).toMatchObject({ status: "CONNECTED", identity: { providerUserId: "777000123" } });
    expect(run.lines.join("\n")).not.toContain(PASSWORD);
  });

  it("a flood wait on the password check is a retryable error with Telegram's delay; the checkpoint stays open", async () => {
    const fake = new FakeTelegram();
    const { run, client } = await qrShown(fake);
    client.scan({ user: telegramUser(), password: PASSWORD });
    await run.until((s) => s.checkpoint?.type === "TWO_FACTOR");
    client.floodWaitSeconds = 42;
    await expect(run.login.solve(PASSWORD, AbortSignal.timeout(10_000))).rejects.toMatchObject({ kind: "provider_error", retryAfterMs: 42_000 });
    expect(run.login.current().status).toBe("CHECKPOINT");
  });

  it("a flood wait on the first token fails the login with the delay", async () => {
    const fake = new FakeTelegram();
    fake.configure = (client) => (client.floodWaitSeconds = 17);
    const run = drive(driverFor(fake), create(TelegramAuthSchema, {}));
    expect(await run.until((s) => s.status === "FAILED")).toMatchObject({ errorKind: "provider_error", retryAfterMs: 17_000 });
  });

  it("Telegram unreachable: provider_unreachable, client destroyed", async () => {
    const fake = new FakeTelegram();
    fake.unreachable = true;
    const run = drive(driverFor(fake), create(TelegramAuthSchema, {}));
    expect(await run.until((s) => s.status === "FAILED")).toMatchObject({ errorKind: "provider_unreachable" });
    expect(fake.clients[0]!.destroyed).toBe(true);
  });

  it("Telegram silent (GramJS would wait for minutes): the call is bounded, request_timeout, client destroyed", async () => {
    const fake = new FakeTelegram();
    fake.silent = true;
    const run = drive(createTelegramDriver({ app: APP, clientFactory: fake.factory, callTimeoutMs: 300 }), create(TelegramAuthSchema, {}));
    expect(await run.until((s) => s.status === "FAILED")).toMatchObject({ errorKind: "request_timeout" });
    expect(fake.clients[0]!.destroyed).toBe(true);
  });

  it("cancel destroys the client and stops renewing the token", async () => {
    const fake = new FakeTelegram();
    const { run, client } = await qrShown(fake);
    await run.login.cancel();
    expect(client.destroyed).toBe(true);
    expect(run.login.current().status).toBe("CANCELED");
  });

  it("without TELEGRAM_API_ID / TELEGRAM_API_HASH: feature_not_implemented naming both", () => {
    const driver = createTelegramDriver({ app: undefined });
    expect(() => drive(driver, create(TelegramAuthSchema, {}))).toThrow(/TELEGRAM_API_ID and TELEGRAM_API_HASH/);
  });

  it("reopens a handed-over session; a terminated one is invalid_credentials", async () => {
    const fake = new FakeTelegram();
    const { run, client } = await qrShown(fake);
    client.scan({ user: telegramUser() });
    const { session } = await run.until((s) => s.status === "CONNECTED");
    const reopened = await reopenTelegram(session!, APP, { log: run.log, signal: AbortSignal.timeout(5000) }, fake.factory);
    expect(reopened.identity.providerUserId).toBe("777000123");
    expect(fake.clients[1]!.options.session).toBe(session!.data);
    await reopened.close();
    expect(fake.clients[1]!.destroyed).toBe(true);
    fake.sessions.clear();
    await expect(reopenTelegram(session!, APP, { log: run.log, signal: AbortSignal.timeout(5000) }, fake.factory)).rejects.toMatchObject({ kind: "invalid_credentials" });
  });
});
