import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ProxySchema, ProxyProtocol } from "../../gen/postpress/accounts/v1/options_pb.js";
import { LinkedinBasicAuthSchema, LinkedinCookieAuthSchema } from "../../gen/postpress/accounts/v1/variants_pb.js";
import { isAppError } from "../../src/errors/app-error.ts";
import { createDriverLab, expectNoSecrets, settled, type DriverLab } from "../support/drivers/drive.ts";
import { startFakeLinkedin, type ChallengeType, type FakeLinkedin } from "../support/drivers/fake-linkedin.ts";
import { startConnectProxy, type TestProxy } from "../support/proxy/connect-proxy.ts";
import { startSocks5Proxy } from "../support/proxy/socks5-proxy.ts";
import { checkpointLifecycle } from "../support/drivers/checkpoint-lifecycle.ts";
import { throughEachProxy } from "../support/drivers/proxied-logins.ts";
import { WEB_HOSTS, startWebHost, type WebHost } from "../support/drivers/web-hosts.ts";

const PASSWORD = "pw-Planted-Secret-7731";
const PROXY_PASSWORD = "proxy-Planted-Secret-9924";

let lab: DriverLab;
let fake: FakeLinkedin;
let n = 0;

function member(extra: { challenge?: ChallengeType; restricted?: boolean; contracts?: string[] } = {}) {
  const id = ++n;
  const m = { email: `ada${id}@example.com`, password: PASSWORD, memberId: 90000 + id, firstName: "Ada", lastName: `Lovelace${id}`, publicIdentifier: `ada-${id}`, ...extra };
  fake.addMember(m);
  return m;
}

beforeAll(async () => {
  lab = await createDriverLab();
  fake = await startFakeLinkedin(lab.pki.server);
});
afterAll(async () => {
  await fake.close();
  await lab.close();
});

describe.each(WEB_HOSTS)("LinkedIn on the %s host", (kind) => {
  let host: WebHost;
  beforeAll(async () => {
    host = await startWebHost(kind, lab, { LINKEDIN_BASE_URL: fake.url });
  });
  afterAll(() => host.close());
  const cookie = (init: MessageInitShape<typeof LinkedinCookieAuthSchema>, options?: { shortTtl?: boolean }) => host.drive({ case: "linkedinCookie", value: init }, options);
  const password = (init: MessageInitShape<typeof LinkedinBasicAuthSchema>, options?: { shortTtl?: boolean }) => host.drive({ case: "linkedinBasic", value: init }, options);

  throughEachProxy(
    {
      provider: "LinkedIn",
      origin: () => fake.url,
      secrets: [PASSWORD],
      start(proxy) {
        const m = member();
        return { providerUserId: String(m.memberId), logins: [cookie({ accessToken: fake.cookieFor(m.email), proxy }), password(create(LinkedinBasicAuthSchema, { username: m.email, password: PASSWORD, proxy }))] };
      },
    },
    PROXY_PASSWORD,
  );

  describe("linkedin_cookie", () => {
    it("reads the member behind li_at: the member id is the identity, the cookies the credential", async () => {
      const m = member();
      const liAt = fake.cookieFor(m.email);
      const d = cookie({ accessToken: liAt, premiumToken: "li-a-Planted-Secret", userAgent: "TestBrowser/1.0" });
      const state = await settled(d);
      expect(state.status).toBe("CONNECTED");
      expect(state.identity).toEqual({ providerUserId: String(m.memberId), displayName: `Ada ${m.lastName}`, handle: m.publicIdentifier });
      const stored = JSON.parse(state.session!.data) as { cookies: Record<string, string> };
      expect(state.session!.format).toBe("linkedin-cookies/v1");
      expect(stored.cookies.li_at).toBe(liAt);
      expect(stored.cookies.li_a).toBe("li-a-Planted-Secret");
      expect(stored.cookies.JSESSIONID).toMatch(/^"ajax:[0-9a-f]+"$/);
      const me = fake.requests.filter((r) => r.path === "/voyager/api/me").at(-1)!;
      expect(me.headers["user-agent"]).toBe("TestBrowser/1.0");
      expect(me.headers["csrf-token"]).toBe(stored.cookies.JSESSIONID!.replace(/"/g, ""));
      expectNoSecrets(d, [liAt, "li-a-Planted-Secret"]);
    });

    it("an expired or revoked li_at is invalid_credentials", async () => {
      const m = member();
      const liAt = fake.cookieFor(m.email);
      fake.revoke(liAt);
      const d = cookie({ accessToken: liAt });
      expect(await settled(d)).toMatchObject({ status: "FAILED", errorKind: "invalid_credentials" });
      expectNoSecrets(d, [liAt]);
    });

    it("a restricted account is account_restricted", async () => {
      const m = member({ restricted: true });
      const d = cookie({ accessToken: fake.cookieFor(m.email) });
      expect(await settled(d)).toMatchObject({ status: "FAILED", errorKind: "account_restricted" });
    });

    it("recruiter_contract_id: a held contract is kept; one the member lacks is insufficient_permissions; no seat is feature_not_subscribed", async () => {
      const holder = member({ contracts: ["111", "222"] });
      const ok = await settled(cookie({ accessToken: fake.cookieFor(holder.email), recruiterContractId: "222" }));
      expect(ok).toMatchObject({ status: "CONNECTED", details: { recruiterContractId: "222" } });
      const lacking = await settled(cookie({ accessToken: fake.cookieFor(holder.email), recruiterContractId: "333" }));
      expect(lacking).toMatchObject({ status: "FAILED", errorKind: "insufficient_permissions" });
      const noSeat = member();
      const none = await settled(cookie({ accessToken: fake.cookieFor(noSeat.email), recruiterContractId: "111" }));
      expect(none).toMatchObject({ status: "FAILED", errorKind: "feature_not_subscribed" });
    });

    describe("through the account's proxy", () => {
      const credentials = { username: "proxy-user", password: PROXY_PASSWORD };
      const cases: Array<[string, () => Promise<TestProxy>, ProxyProtocol]> = [
        ["http CONNECT", () => startConnectProxy({ credentials }), ProxyProtocol.HTTP],
        ["https CONNECT", () => startConnectProxy({ credentials, tls: lab.pki.server }), ProxyProtocol.HTTPS],
        ["socks5", () => startSocks5Proxy({ credentials }), ProxyProtocol.SOCKS5],
      ];
      for (const [name, start, protocol] of cases) {
        it(`${name}: every request goes through it; wrong credentials are proxy_auth_error; a refusing proxy proxy_error`, async () => {
          const proxy = await start();
          try {
            const m = member();
            const liAt = fake.cookieFor(m.email);
            const before = fake.requests.length;
            const viaProxy = create(ProxySchema, { protocol, host: proxy.host, port: proxy.port, ...credentials });
            const d = cookie({ accessToken: liAt, proxy: viaProxy });
            expect(await settled(d)).toMatchObject({ status: "CONNECTED", identity: { providerUserId: String(m.memberId) } });
            expect(fake.requests.length - before).toBe(2);
            expect(proxy.tunnels.length).toBeGreaterThanOrEqual(1);
            expect(proxy.tunnels.every((t) => t === new URL(fake.url).host)).toBe(true);
            expectNoSecrets(d, [liAt, PROXY_PASSWORD]);

            const wrong = cookie({ accessToken: liAt, proxy: { ...viaProxy, password: "wrong-Planted-Secret" } });
            expect(await settled(wrong)).toMatchObject({ status: "FAILED", errorKind: "proxy_auth_error" });
            expectNoSecrets(wrong, [liAt, "wrong-Planted-Secret"]);
            const anonymous = cookie({ accessToken: liAt, proxy: { ...viaProxy, username: "", password: "" } });
            expect(await settled(anonymous)).toMatchObject({ status: "FAILED", errorKind: "proxy_auth_error" });
          } finally {
            await proxy.close();
          }
          const refusing = cookie({ accessToken: "x", proxy: create(ProxySchema, { protocol, host: proxy.host, port: proxy.port }) });
          expect(await settled(refusing)).toMatchObject({ status: "FAILED", errorKind: "proxy_error" });
        });
      }

      it("a proxy without credentials carries the login too (socks5 and http)", async () => {
        const open: Array<[TestProxy, ProxyProtocol]> = [
          [await startSocks5Proxy(), ProxyProtocol.SOCKS5],
          [await startConnectProxy(), ProxyProtocol.HTTP],
        ];
        for (const [proxy, protocol] of open) {
          try {
            const m = member();
            const d = cookie({ accessToken: fake.cookieFor(m.email), proxy: create(ProxySchema, { protocol, host: proxy.host, port: proxy.port }) });
            expect(await settled(d)).toMatchObject({ status: "CONNECTED", identity: { providerUserId: String(m.memberId) } });
            expect(proxy.tunnels).toContain(new URL(fake.url).host);
          } finally {
            await proxy.close();
          }
        }
      });
    });
  });

  describe("linkedin_basic", () => {
    const basic = (email: string, password = PASSWORD, extra: object = {}) => create(LinkedinBasicAuthSchema, { username: email, password, ...extra });

    it("PASS: logs in, reads the member, stores the session cookies", async () => {
      const m = member();
      const d = password(basic(m.email));
      const state = await settled(d);
      expect(state).toMatchObject({ status: "CONNECTED", identity: { providerUserId: String(m.memberId), handle: m.publicIdentifier } });
      const cookies = (JSON.parse(state.session!.data) as { cookies: Record<string, string> }).cookies;
      expect(cookies.li_at).toMatch(/^AQED/);
      expect(cookies.JSESSIONID).toBeDefined();
      const login = fake.requests.filter((r) => r.path === "/uas/authenticate" && r.method === "POST").at(-1)!;
      expect(login.form.session_key).toBe(m.email);
      expectNoSecrets(d, [PASSWORD, cookies.li_at!]);
    });

    it("BAD_PASSWORD and BAD_EMAIL are invalid_credentials", async () => {
      const m = member();
      const wrong = password(basic(m.email, "not-the-Planted-Password"));
      expect(await settled(wrong)).toMatchObject({ status: "FAILED", errorKind: "invalid_credentials", errorMetadata: { loginResult: "BAD_PASSWORD" } });
      expectNoSecrets(wrong, ["not-the-Planted-Password"]);
      const unknown = password(basic("nobody@example.com"));
      expect(await settled(unknown)).toMatchObject({ status: "FAILED", errorKind: "invalid_credentials", errorMetadata: { loginResult: "BAD_EMAIL" } });
    });

    it("an e-mail PIN is an OTP checkpoint: a wrong PIN leaves it open, it can be resent, the right one connects", async () => {
      const m = member({ challenge: "EMAIL_PIN" });
      const d = password(basic(m.email));
      const checkpoint = await d.until("CHECKPOINT");
      expect(checkpoint.checkpoint).toMatchObject({ type: "OTP" });
      expect(Date.parse(checkpoint.checkpoint!.expiresAt!)).toBeGreaterThan(Date.now());
      const wrongPin = await d.solve("000000").catch((e: unknown) => e);
      expect(isAppError(wrongPin) && wrongPin.kind).toBe("invalid_checkpoint_code");
      expect((await d.current()).status).toBe("CHECKPOINT");
      const resends = fake.resendCount();
      expect((await d.resend()).status).toBe("CHECKPOINT");
      expect(fake.resendCount()).toBe(resends + 1);
      const pin = fake.lastPin();
      const final = await d.solve(pin);
      expect(final).toMatchObject({ status: "CONNECTED", identity: { providerUserId: String(m.memberId) } });
      expectNoSecrets(d, [PASSWORD, pin], [wrongPin]);
    });

    it("an SMS code is TWO_FACTOR (resendable); an authenticator code is TWO_FACTOR without resend", async () => {
      const sms = member({ challenge: "SMS_PIN" });
      const d = password(basic(sms.email));
      expect((await d.until("CHECKPOINT")).checkpoint?.type).toBe("TWO_FACTOR");
      expect((await d.solve(fake.lastPin())).status).toBe("CONNECTED");

      const app = member({ challenge: "AUTHENTICATOR_APP" });
      const a = password(basic(app.email));
      expect((await a.until("CHECKPOINT")).checkpoint?.type).toBe("TWO_FACTOR");
      const resend = await a.resend().catch((e: unknown) => e);
      expect(isAppError(resend) && resend.kind).toBe("no_pending_checkpoint");
      expect((await a.solve(fake.lastPin())).status).toBe("CONNECTED");
    });

    it("approve in the app is IN_APP_VALIDATION: nothing to solve; it connects once approved", async () => {
      const m = member({ challenge: "MOBILE_APP_PUSH" });
      const d = password(basic(m.email));
      expect((await d.until("CHECKPOINT")).checkpoint?.type).toBe("IN_APP_VALIDATION");
      const solve = await d.solve("123").catch((e: unknown) => e);
      expect(isAppError(solve) && solve.kind).toBe("no_pending_checkpoint");
      fake.approve();
      expect(await settled(d)).toMatchObject({ status: "CONNECTED", identity: { providerUserId: String(m.memberId) } });
    });

    it("a captcha is CAPTCHA with its site key; the solved token connects", async () => {
      const m = member({ challenge: "CAPTCHA_V2" });
      const d = password(basic(m.email));
      const cp = (await d.until("CHECKPOINT")).checkpoint!;
      expect(cp.type).toBe("CAPTCHA");
      expect(JSON.parse(cp.captchaData!)).toMatchObject({ siteKey: "6Lc7CQMTAAAAAIL84V_tPRYEWZtljsJQJZ5jSijw" });
      expect((await d.solve(fake.lastPin())).status).toBe("CONNECTED");
    });

    it("a challenge it cannot relay is action_required naming it", async () => {
      const m = member({ challenge: "ID_VERIFICATION" });
      expect(await settled(password(basic(m.email)))).toMatchObject({ status: "FAILED", errorKind: "action_required", errorMetadata: { challengeType: "ID_VERIFICATION" } });
    });

    checkpointLifecycle(
      (["EMAIL_PIN", "SMS_PIN", "AUTHENTICATOR_APP", "MOBILE_APP_PUSH", "CAPTCHA_V2"] as const).map((challenge) => ({
        hurdle: challenge,
        type: ({ EMAIL_PIN: "OTP", SMS_PIN: "TWO_FACTOR", AUTHENTICATOR_APP: "TWO_FACTOR", MOBILE_APP_PUSH: "IN_APP_VALIDATION", CAPTCHA_V2: "CAPTCHA" } as const)[challenge],
        ...(challenge === "EMAIL_PIN" || challenge === "SMS_PIN" ? { resends: () => fake.resendCount() } : {}),
        start: (options?: { shortTtl?: boolean }) => password(basic(member({ challenge }).email), options),
      })),
    );

    it("the cookie and the password of one member name the same identity (one account)", async () => {
      const m = member();
      const byCookie = await settled(cookie({ accessToken: fake.cookieFor(m.email) }));
      const byPassword = await settled(password(basic(m.email)));
      expect(byCookie.identity?.providerUserId).toBe(String(m.memberId));
      expect(byPassword.identity).toEqual(byCookie.identity);
    });

    it("the whole password login, challenge included, goes through a SOCKS5 proxy with credentials", async () => {
      const proxy = await startSocks5Proxy({ credentials: { username: "u", password: PROXY_PASSWORD } });
      try {
        const m = member({ challenge: "EMAIL_PIN" });
        const d = password(basic(m.email, PASSWORD, { proxy: create(ProxySchema, { protocol: ProxyProtocol.SOCKS5, host: proxy.host, port: proxy.port, username: "u", password: PROXY_PASSWORD }) }));
        await d.until("CHECKPOINT");
        const before = fake.requests.length;
        expect(await d.solve(fake.lastPin())).toMatchObject({ status: "CONNECTED", identity: { providerUserId: String(m.memberId) } });
        expect(fake.requests.length - before).toBe(2);
        expect(proxy.tunnels.length).toBeGreaterThanOrEqual(1);
        expect(proxy.tunnels.every((t) => t === new URL(fake.url).host)).toBe(true);
        expectNoSecrets(d, [PASSWORD, PROXY_PASSWORD]);
      } finally {
        await proxy.close();
      }
    });
  });
});
