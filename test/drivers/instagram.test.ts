import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ProxyProtocol, ProxySchema } from "../../gen/postpress/accounts/v1/options_pb.js";
import { InstagramBasicAuthSchema, InstagramCookieAuthSchema } from "../../gen/postpress/accounts/v1/variants_pb.js";
import { isAppError } from "../../src/errors/app-error.ts";
import { createDriverLab, expectNoSecrets, settled, type DriverLab } from "../support/drivers/drive.ts";
import { startFakeInstagram, type FakeInstagram, type InstagramHurdle } from "../support/drivers/fake-instagram.ts";
import { startConnectProxy } from "../support/proxy/connect-proxy.ts";
import { startSocks5Proxy } from "../support/proxy/socks5-proxy.ts";
import { checkpointLifecycle } from "../support/drivers/checkpoint-lifecycle.ts";
import { throughEachProxy } from "../support/drivers/proxied-logins.ts";
import { WEB_HOSTS, startWebHost, type WebHost } from "../support/drivers/web-hosts.ts";

const PASSWORD = "ig-Planted-Password-5512";
const PROXY_PASSWORD = "ig-proxy-Planted-Secret-0147";

let lab: DriverLab;
let fake: FakeInstagram;
let n = 0;

function user(hurdle?: InstagramHurdle) {
  const id = ++n;
  const u = { username: `grace${id}`, password: PASSWORD, pk: 4_000_000 + id, fullName: `Grace Hopper ${id}`, ...(hurdle ? { hurdle } : {}) };
  fake.addUser(u);
  return u;
}
const basic = (username: string, password = PASSWORD, extra: object = {}) => create(InstagramBasicAuthSchema, { username, password, ...extra });

beforeAll(async () => {
  lab = await createDriverLab();
  fake = await startFakeInstagram(lab.pki.server);
});
afterAll(async () => {
  await fake.close();
  await lab.close();
});

describe.each(WEB_HOSTS)("Instagram on the %s host", (kind) => {
  let host: WebHost;
  beforeAll(async () => {
    host = await startWebHost(kind, lab, { INSTAGRAM_BASE_URL: fake.url });
  });
  afterAll(() => host.close());
  const cookie = (init: MessageInitShape<typeof InstagramCookieAuthSchema>) => host.drive({ case: "instagramCookie", value: init });
  const password = (init: MessageInitShape<typeof InstagramBasicAuthSchema>, options?: { shortTtl?: boolean }) => host.drive({ case: "instagramBasic", value: init }, options);

  throughEachProxy(
    {
      provider: "Instagram",
      origin: () => fake.url,
      secrets: [PASSWORD],
      start(proxy) {
        const u = user();
        return { providerUserId: String(u.pk), logins: [cookie({ sessionid: fake.sessionFor(u.username), proxy }), password(basic(u.username, PASSWORD, { proxy }))] };
      },
    },
    PROXY_PASSWORD,
  );

  describe("instagram_cookie", () => {
    it("reads the current user with sessionid: pk is the identity; through a SOCKS5 proxy with the variant's user agent", async () => {
      const u = user();
      const sessionid = fake.sessionFor(u.username);
      const proxy = await startSocks5Proxy({ credentials: { username: "u", password: "socks-Planted-Secret" } });
      try {
        const d = cookie({ sessionid, userAgent: "Instagram 1.0 Test", proxy: create(ProxySchema, { protocol: ProxyProtocol.SOCKS5, host: proxy.host, port: proxy.port, username: "u", password: "socks-Planted-Secret" }) });
        const state = await settled(d);
        expect(state).toMatchObject({ status: "CONNECTED", identity: { providerUserId: String(u.pk), handle: u.username, displayName: u.fullName } });
        expect(JSON.parse(state.session!.data)).toMatchObject({ cookies: { sessionid, ds_user_id: String(u.pk) } });
        expect(proxy.tunnels).toEqual([new URL(fake.url).host]);
        expect(fake.requests.at(-1)!.headers["user-agent"]).toBe("Instagram 1.0 Test");
        expectNoSecrets(d, [sessionid, "socks-Planted-Secret"]);
      } finally {
        await proxy.close();
      }
    });

    it("a session Instagram holds at a challenge is action_required; a blocked one (feedback_required) account_restricted", async () => {
      const challenged = { ...user(), held: "challenge_required" as const };
      fake.addUser(challenged);
      expect(await settled(cookie({ sessionid: fake.sessionFor(challenged.username) }))).toMatchObject({ status: "FAILED", errorKind: "action_required", errorMetadata: { challenge: "challenge_required" } });
      const blocked = { ...user(), held: "feedback_required" as const };
      fake.addUser(blocked);
      expect(await settled(cookie({ sessionid: fake.sessionFor(blocked.username) }))).toMatchObject({ status: "FAILED", errorKind: "account_restricted" });
    });

    it("a logged-out session is invalid_credentials", async () => {
      const d = cookie({ sessionid: "123%3Adead-Planted-Session%3A1" });
      expect(await settled(d)).toMatchObject({ status: "FAILED", errorKind: "invalid_credentials" });
      expectNoSecrets(d, ["dead-Planted-Session"]);
    });
  });

  describe("instagram_basic", () => {
    it("logs in: the device, cookies and bearer are the credential; through an HTTP proxy", async () => {
      const u = user();
      const proxy = await startConnectProxy();
      try {
        const d = password(basic(u.username, PASSWORD, { proxy: create(ProxySchema, { protocol: ProxyProtocol.HTTP, host: proxy.host, port: proxy.port }) }));
        const state = await settled(d);
        expect(state).toMatchObject({ status: "CONNECTED", identity: { providerUserId: String(u.pk), handle: u.username } });
        const stored = JSON.parse(state.session!.data) as { device: { deviceId: string }; cookies: Record<string, string>; authorization: string };
        expect(stored.device.deviceId).toMatch(/^android-/);
        expect(stored.cookies.sessionid).toMatch(new RegExp(`^${u.pk}%3A`));
        expect(stored.authorization).toMatch(/^Bearer IGT:2:/);
        expect(proxy.tunnels.length).toBeGreaterThanOrEqual(1);
        expectNoSecrets(d, [PASSWORD, stored.cookies.sessionid!, stored.authorization]);
      } finally {
        await proxy.close();
      }
    });

    it("bad password and unknown user are invalid_credentials; feedback_required and a disabled account account_restricted", async () => {
      const u = user();
      const wrong = password(basic(u.username, "wrong-Planted-Password"));
      expect(await settled(wrong)).toMatchObject({ status: "FAILED", errorKind: "invalid_credentials", errorMetadata: { errorType: "bad_password" } });
      expectNoSecrets(wrong, ["wrong-Planted-Password"]);
      expect(await settled(password(basic("nobody-here")))).toMatchObject({ status: "FAILED", errorKind: "invalid_credentials", errorMetadata: { errorType: "invalid_user" } });
      expect(await settled(password(basic(user("feedback_required").username)))).toMatchObject({ status: "FAILED", errorKind: "account_restricted" });
      expect(await settled(password(basic(user("inactive").username)))).toMatchObject({ status: "FAILED", errorKind: "account_restricted" });
    });

    it("two_factor_required by SMS: TWO_FACTOR naming the phone, a wrong code leaves it open, resend, the right code connects", async () => {
      const u = user("two_factor_sms");
      const d = password(basic(u.username));
      expect((await d.until("CHECKPOINT")).checkpoint).toMatchObject({ type: "TWO_FACTOR", codeSentTo: "••••42" });
      const wrong = await d.solve("000000").catch((e: unknown) => e);
      expect(isAppError(wrong) && wrong.kind).toBe("invalid_checkpoint_code");
      const before = fake.resendCount();
      await d.resend();
      expect(fake.resendCount()).toBe(before + 1);
      const code = fake.lastCode();
      expect(await d.solve(code)).toMatchObject({ status: "CONNECTED", identity: { providerUserId: String(u.pk) } });
      expectNoSecrets(d, [PASSWORD, code]);
    });

    it("two_factor_required by an authenticator: TWO_FACTOR that cannot be resent", async () => {
      const u = user("two_factor_totp");
      const d = password(basic(u.username));
      expect((await d.until("CHECKPOINT")).checkpoint?.type).toBe("TWO_FACTOR");
      const resend = await d.resend().catch((e: unknown) => e);
      expect(isAppError(resend) && resend.kind).toBe("no_pending_checkpoint");
      expect((await d.solve(fake.lastCode())).status).toBe("CONNECTED");
    });

    it("challenge_required: the e-mail code is an OTP (resendable) and connects", async () => {
      const u = user("challenge_email");
      const d = password(basic(u.username));
      expect((await d.until("CHECKPOINT")).checkpoint).toMatchObject({ type: "OTP", codeSentTo: "a***@e***.com" });
      const wrong = await d.solve("111111").catch((e: unknown) => e);
      expect(isAppError(wrong) && wrong.kind).toBe("invalid_checkpoint_code");
      const before = fake.resendCount();
      await d.resend();
      expect(fake.resendCount()).toBe(before + 1);
      expect(await d.solve(fake.lastCode())).toMatchObject({ status: "CONNECTED", identity: { providerUserId: String(u.pk) } });
    });

    it("delta_login_review is IN_APP_VALIDATION, connected once approved; an unknown step is action_required", async () => {
      const u = user("delta_login_review");
      const d = password(basic(u.username));
      expect((await d.until("CHECKPOINT")).checkpoint?.type).toBe("IN_APP_VALIDATION");
      fake.approve();
      expect(await settled(d)).toMatchObject({ status: "CONNECTED", identity: { providerUserId: String(u.pk) } });
      expect(await settled(password(basic(user("unknown_step").username)))).toMatchObject({ status: "FAILED", errorKind: "action_required", errorMetadata: { stepName: "submit_phone" } });
    });

    checkpointLifecycle([
      { hurdle: "two_factor_sms", type: "TWO_FACTOR", resends: () => fake.resendCount(), start: (o) => password(basic(user("two_factor_sms").username), o) },
      { hurdle: "two_factor_totp", type: "TWO_FACTOR", start: (o) => password(basic(user("two_factor_totp").username), o) },
      { hurdle: "challenge_email", type: "OTP", resends: () => fake.resendCount(), start: (o) => password(basic(user("challenge_email").username), o) },
      { hurdle: "delta_login_review", type: "IN_APP_VALIDATION", start: (o) => password(basic(user("delta_login_review").username), o) },
    ]);

    it("the sessionid and the password of one user name the same identity (one account)", async () => {
      const u = user();
      const byCookie = await settled(cookie({ sessionid: fake.sessionFor(u.username) }));
      const byPassword = await settled(password(basic(u.username)));
      expect(byCookie.identity?.providerUserId).toBe(String(u.pk));
      expect(byPassword.identity).toEqual(byCookie.identity);
    });
  });
});
