import { create } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ProxyProtocol, ProxySchema } from "../../gen/postpress/accounts/v1/options_pb.js";
import { CookieSchema, MessengerBasicAuthSchema, MessengerSessionAuthSchema } from "../../gen/postpress/accounts/v1/variants_pb.js";
import { messengerBasicDriver } from "../../src/drivers/messenger/basic-driver.ts";
import { messengerSessionDriver } from "../../src/drivers/messenger/session-driver.ts";
import type { WebDriverEnv } from "../../src/drivers/web-env.ts";
import { isAppError } from "../../src/errors/app-error.ts";
import { createDriverLab, drive, expectNoSecrets, settled, type DriverLab } from "../support/drivers/drive.ts";
import { startFakeFacebook, type FacebookHurdle, type FakeFacebook } from "../support/drivers/fake-facebook.ts";
import { startConnectProxy } from "../support/proxy/connect-proxy.ts";
import { startSocks5Proxy } from "../support/proxy/socks5-proxy.ts";

const PASSWORD = "fb-Planted-Password-3321";
let lab: DriverLab;
let fake: FakeFacebook;
let env: WebDriverEnv;
let n = 0;

function user(extra: { hurdle?: FacebookHurdle; held?: "checkpoint" | "consent" } = {}) {
  const id = ++n;
  const u = { email: `alan${id}@example.com`, password: PASSWORD, uid: String(100_000_000_000_000 + id), name: `Alan Turing ${id}`, ...extra };
  fake.addUser(u);
  return u;
}
const sessionOf = (cookies: Array<{ name: string; value: string }>, extra: object = {}) => create(MessengerSessionAuthSchema, { cookies: cookies.map((c) => create(CookieSchema, c)), ...extra });
const basic = (email: string, password = PASSWORD, extra: object = {}) => create(MessengerBasicAuthSchema, { username: email, password, ...extra });
const timeout = () => AbortSignal.timeout(5000);

beforeAll(async () => {
  lab = await createDriverLab();
  fake = await startFakeFacebook(lab.pki.server);
  env = lab.env({ FACEBOOK_BASE_URL: fake.url, FACEBOOK_GRAPH_BASE_URL: fake.url });
});
afterAll(async () => {
  await fake.close();
  await lab.close();
});

describe("messenger_session", () => {
  it("the messages page confirms c_user is logged in: the user id is the identity; headers and cookies sent, through an HTTPS proxy", async () => {
    const u = user();
    const cookies = fake.cookiesFor(u.email);
    const proxy = await startConnectProxy({ tls: lab.pki.server });
    try {
      const d = drive(messengerSessionDriver(env), sessionOf(cookies, { headers: { "x-fb-extra": "hdr-Planted-Secret" }, userName: "Alan", proxy: create(ProxySchema, { protocol: ProxyProtocol.HTTPS, host: proxy.host, port: proxy.port }) }));
      const state = await settled(d);
      expect(state).toMatchObject({ status: "CONNECTED", identity: { providerUserId: u.uid, displayName: u.name } });
      const page = fake.requests.at(-1)!;
      expect(page.headers["x-fb-extra"]).toBe("hdr-Planted-Secret");
      expect(page.cookies.xs).toBe(cookies[1]!.value);
      expect(proxy.tunnels).toEqual([new URL(fake.url).host]);
      expect(JSON.parse(state.session!.data)).toMatchObject({ cookies: { c_user: u.uid, xs: cookies[1]!.value }, headers: { "x-fb-extra": "hdr-Planted-Secret" } });
      expectNoSecrets(d, [cookies[1]!.value, "hdr-Planted-Secret"]);
    } finally {
      await proxy.close();
    }
  });

  it("logged out is invalid_credentials; a checkpoint or consent page is action_required naming it", async () => {
    const u = user();
    const cookies = fake.cookiesFor(u.email);
    fake.logout(cookies[1]!.value);
    const d = drive(messengerSessionDriver(env), sessionOf(cookies));
    expect(await settled(d)).toMatchObject({ status: "FAILED", errorKind: "invalid_credentials" });
    expectNoSecrets(d, [cookies[1]!.value]);
    const held = user({ held: "checkpoint" });
    expect(await settled(drive(messengerSessionDriver(env), sessionOf(fake.cookiesFor(held.email))))).toMatchObject({ status: "FAILED", errorKind: "action_required", errorMetadata: { block: "checkpoint" } });
    const consent = user({ held: "consent" });
    expect(await settled(drive(messengerSessionDriver(env), sessionOf(fake.cookiesFor(consent.email))))).toMatchObject({ status: "FAILED", errorKind: "action_required", errorMetadata: { block: "consent" } });
  });

  it("cookies of another user than c_user, or without c_user, are invalid_credentials", async () => {
    const a = user();
    const b = user();
    const mixed = [...fake.cookiesFor(a.email).filter((c) => c.name !== "c_user"), { name: "c_user", value: b.uid }];
    expect(await settled(drive(messengerSessionDriver(env), sessionOf(mixed)))).toMatchObject({ status: "FAILED", errorKind: "invalid_credentials" });
    const noUser = fake.cookiesFor(a.email).filter((c) => c.name !== "c_user");
    expect(await settled(drive(messengerSessionDriver(env), sessionOf(noUser)))).toMatchObject({ status: "FAILED", errorKind: "invalid_credentials" });
  });
});

describe("messenger_basic", () => {
  it("the app login gives session cookies, checked on the messages page; through a SOCKS5 proxy", async () => {
    const u = user();
    const proxy = await startSocks5Proxy();
    try {
      const d = drive(messengerBasicDriver(env), basic(u.email, PASSWORD, { proxy: create(ProxySchema, { protocol: ProxyProtocol.SOCKS5, host: proxy.host, port: proxy.port }) }));
      const state = await settled(d);
      expect(state).toMatchObject({ status: "CONNECTED", identity: { providerUserId: u.uid, displayName: u.name } });
      const stored = JSON.parse(state.session!.data) as { cookies: Record<string, string>; accessToken: string };
      expect(stored.cookies.c_user).toBe(u.uid);
      expect(stored.accessToken).toMatch(/^EAAAAU/);
      expect(proxy.tunnels.length).toBeGreaterThanOrEqual(1);
      expectNoSecrets(d, [PASSWORD, stored.cookies.xs!, stored.accessToken]);
    } finally {
      await proxy.close();
    }
  });

  it("wrong password is invalid_credentials; a checkpoint action_required; a block account_restricted", async () => {
    const u = user();
    const wrong = drive(messengerBasicDriver(env), basic(u.email, "wrong-Planted-Password"));
    expect(await settled(wrong)).toMatchObject({ status: "FAILED", errorKind: "invalid_credentials", errorMetadata: { graphCode: "401" } });
    expectNoSecrets(wrong, ["wrong-Planted-Password"]);
    expect(await settled(drive(messengerBasicDriver(env), basic(user({ hurdle: "checkpoint" }).email)))).toMatchObject({ status: "FAILED", errorKind: "action_required", errorMetadata: { block: "checkpoint" } });
    expect(await settled(drive(messengerBasicDriver(env), basic(user({ hurdle: "blocked" }).email)))).toMatchObject({ status: "FAILED", errorKind: "account_restricted" });
  });

  it("login approvals code is TWO_FACTOR: a wrong code leaves it open, no resend, the right code connects", async () => {
    const u = user({ hurdle: "two_factor" });
    const d = drive(messengerBasicDriver(env), basic(u.email));
    expect((await d.until("CHECKPOINT")).checkpoint?.type).toBe("TWO_FACTOR");
    const wrong = await d.login.solve("000000", timeout()).catch((e: unknown) => e);
    expect(isAppError(wrong) && wrong.kind).toBe("invalid_checkpoint_code");
    const resend = await d.login.resend(timeout()).catch((e: unknown) => e);
    expect(isAppError(resend) && resend.kind).toBe("no_pending_checkpoint");
    const code = fake.code();
    expect(await d.login.solve(code, timeout())).toMatchObject({ status: "CONNECTED", identity: { providerUserId: u.uid } });
    expectNoSecrets(d, [PASSWORD, code]);
  });

  it("approve from another device is IN_APP_VALIDATION, connected once approved; cancel and expiry end a checkpoint", async () => {
    const u = user({ hurdle: "approve_device" });
    const d = drive(messengerBasicDriver(env), basic(u.email));
    expect((await d.until("CHECKPOINT")).checkpoint?.type).toBe("IN_APP_VALIDATION");
    fake.approve();
    expect(await settled(d)).toMatchObject({ status: "CONNECTED", identity: { providerUserId: u.uid } });

    const c = drive(messengerBasicDriver(env), basic(user({ hurdle: "two_factor" }).email));
    await c.until("CHECKPOINT");
    await c.login.cancel();
    expect(c.login.current().status).toBe("CANCELED");
    const short = lab.env({ FACEBOOK_BASE_URL: fake.url, FACEBOOK_GRAPH_BASE_URL: fake.url, DRIVERS_CHECKPOINT_TTL_MS: "300" });
    const e = drive(messengerBasicDriver(short), basic(user({ hurdle: "two_factor" }).email));
    await e.until("CHECKPOINT");
    expect((await settled(e)).status).toBe("EXPIRED");
  });

  it("the browser session and the password of one user name the same identity (one account)", async () => {
    const u = user();
    const bySession = await settled(drive(messengerSessionDriver(env), sessionOf(fake.cookiesFor(u.email))));
    const byPassword = await settled(drive(messengerBasicDriver(env), basic(u.email)));
    expect(bySession.identity?.providerUserId).toBe(u.uid);
    expect(byPassword.identity).toEqual(bySession.identity);
  });
});
