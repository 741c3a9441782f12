/**
 * The original REST API end to end: plain fetch on the real HTTP port, the real server, the
 * same connectors as the other protocols (the scripted gateway for the provider-session
 * variants, the test connector for mail and OAuth), every exchange checked against
 * docs/openapi.json.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CAPTCHA_ANSWER, SCRIPT_CODE } from "../../tools/scripted-gateway/engine.ts";
import { startScriptedGateway, type ScriptedGateway } from "../../tools/scripted-gateway/server.ts";
import { startCheckpointServer, type CheckpointServer } from "../checkpoints/support/harness.ts";
import { login } from "../checkpoints/support/helpers.ts";
import { ALL_VARIANTS, scriptedConnector } from "../support/test-connectors.ts";
import { ConnectAccountRequestSchema } from "../../gen/postpress/accounts/v1/account_service_pb.js";
import type { VariantCase } from "../../src/domain/connectors/connector.ts";
import { expectProblem, restChecked } from "./support.ts";

let gateway: ScriptedGateway;
let server: CheckpointServer;
/** The test connector serves mail and the OAuth variants; the scripted gateway every provider-session one. */
const connector = scriptedConnector(["mail", "googleOauth", "outlook"]);
const GATEWAY_SERVED = new Set<VariantCase>(ALL_VARIANTS.filter((v) => !connector.variants.includes(v)));
const ACCOUNT_ID = /^acc_[0-9A-HJKMNP-TV-Z]{26}$/;

beforeAll(async () => {
  gateway = await startScriptedGateway({ qrRotateMs: 60_000, scanAfterMs: null, pairAfterMs: null, inAppAfterMs: null });
  const all = gateway.address;
  server = await startCheckpointServer({
    gateways: { LINKEDIN: all, INSTAGRAM: all, MESSENGER: all, TWITTER: all, WHATSAPP: all, TELEGRAM: all },
    connectors: [connector],
  });
});
afterAll(async () => {
  await server?.close();
  await gateway?.close();
});

const connect = (body: unknown, apiKey = server.apiKey) => restChecked(server.httpUrl, "POST", "/api/v1/accounts", { body, apiKey });
/** A body the document refuses: only the answer is checked against it. */
const connectInvalid = (body: unknown) => restChecked(server.httpUrl, "POST", "/api/v1/accounts", { body, apiKey: server.apiKey }, { requestValid: false });

/** One request per variant, in the contract's own JSON (snake_case, the contract's enum strings). */
function contractBodies(user: string): [string, VariantCase, Record<string, unknown>, "created" | "checkpoint"][] {
  const proxy = { protocol: "socks5", host: "proxy.example.net", port: 1080, username: "proxy-user", password: "proxy-secret" };
  const syncLimit = { chats: 500, messages: "2025-12-31T23:59:59.999Z" };
  // Cookie variants: counts only (the scripted gateway hashes their request with JSON.stringify, which a Timestamp's bigint breaks).
  const counts = { chats: 500, messages: 1000 };
  const ua = "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0";
  return [
    ["1 LinkedIn basic", "linkedinBasic", { provider: "LINKEDIN", username: user, password: "li-secret", sync_limit: syncLimit, proxy, user_agent: ua, recruiter_contract_id: "rc-42", country: "FR", ip: "203.0.113.7", disabled_features: ["linkedin_recruiter"] }, "created"],
    ["2 LinkedIn cookie", "linkedinCookie", { provider: "LINKEDIN", access_token: user, premium_token: "li-a", sync_limit: counts, proxy, user_agent: ua, recruiter_contract_id: "rc-42" }, "created"],
    ["3 WhatsApp", "whatsapp", { provider: "WHATSAPP", proxy, country: "FR" }, "checkpoint"],
    ["4 Instagram basic", "instagramBasic", { provider: "INSTAGRAM", username: user, password: "ig-secret", sync_limit: syncLimit, proxy, user_agent: ua }, "created"],
    ["5 Instagram cookie", "instagramCookie", { provider: "INSTAGRAM", sessionid: user, sync_limit: { chats: 20 }, user_agent: ua }, "created"],
    ["6 Messenger basic", "messengerBasic", { provider: "MESSENGER", username: user, password: "fb-secret", sync_limit: syncLimit }, "created"],
    [
      "7 Messenger session",
      "messengerSession",
      {
        provider: "MESSENGER",
        cookies: [
          { name: "c_user", value: `1000-${user}`, domain: ".facebook.com", path: "/", secure: true, httpOnly: false, expirationDate: 1798761599.5, sameSite: "no_restriction" },
          { name: "xs", value: "xs-secret", sameSite: "lax" },
        ],
        headers: { "x-fb-lsd": "lsd-secret" },
        user_name: "Anna",
        proxy,
        user_agent: ua,
      },
      "created",
    ],
    [
      "8 IMAP / SMTP",
      "mail",
      { provider: "MAIL", imap_user: user, smtp_user: user, imap_password: "imap-secret", smtp_password: "smtp-secret", imap_host: "imap.example.com", imap_port: 993, smtp_host: "smtp.example.com", smtp_port: 465, imap_encryption: "tls", sync_limit: "NO_HISTORY_SYNC" },
      "created",
    ],
    ["9 Gmail", "googleOauth", { provider: "GOOGLE_OAUTH", refresh_token: "r-secret", access_token: "a-secret", sync_limit: "NO_HISTORY_SYNC" }, "created"],
    ["10 Telegram", "telegram", { provider: "TELEGRAM", password: "tg-secret", sync_limit: { messages: 100 } }, "checkpoint"],
    ["11 Outlook", "outlook", { provider: "OUTLOOK", refresh_token: "r-secret", access_token: "a-secret", username: `${user}@contoso.com`, id: "00000001-1111-2222-3333-444444444444", sync_limit: "NO_HISTORY_SYNC" }, "created"],
    ["12 X / Twitter", "twitter", { provider: "TWITTER", username: user, email: "anna@acme.com", password: "x-secret" }, "created"],
  ];
}

describe("POST /api/v1/accounts", () => {
  it("the contract's own example: 201 AccountCreated", async () => {
    const r = await connect({ provider: "LINKEDIN", username: "anna@acme.com", password: "********" });
    expect(r.status).toBe(201);
    expect(r.contentType).toBe("application/json");
    expect(r.body).toEqual({ object: "AccountCreated", account_id: expect.stringMatching(ACCOUNT_ID) });
  });

  it.each(contractBodies(login("ok")))("variant %s reaches its connector as %s", async (_name, variant, body, expected) => {
    const [gatewayBefore, connectorBefore] = [gateway.received.length, connector.calls.length];
    const r = await connect(body);
    const reached = gateway.received.slice(gatewayBefore).map((s) => s.request.variant.case as string).concat(connector.calls.slice(connectorBefore).map((c) => c.typeName));
    expect(reached).toEqual([GATEWAY_SERVED.has(variant) ? variant : ConnectAccountRequestSchema.field[variant]!.message!.typeName]);
    if (expected === "created") {
      expect(r.status, JSON.stringify(r.body)).toBe(201);
      expect(r.body).toEqual({ object: "AccountCreated", account_id: expect.stringMatching(ACCOUNT_ID) });
    } else {
      expect(r.status, JSON.stringify(r.body)).toBe(202);
      expect(r.body).toMatchObject({ object: "Checkpoint", account_id: expect.stringMatching(ACCOUNT_ID), checkpoint: { type: "QRCODE", qr_code: expect.any(String) } });
    }
  });

  it("the account is read back over REST with the options the flat body gave, in the contract's spelling", async () => {
    const [, , body] = contractBodies(login("ok"))[0]!;
    const created = await connect(body);
    const r = await restChecked(server.httpUrl, "GET", `/api/v1/accounts/${created.body.account_id as string}`, { apiKey: server.apiKey });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      object: "Account",
      id: created.body.account_id,
      provider: "LINKEDIN",
      auth_method: "LINKEDIN_BASIC",
      status: "CONNECTED",
      options: {
        country: "FR",
        ip: "203.0.113.7",
        disabled_features: ["linkedin_recruiter"],
        sync_limit: { chats: 500, messages: "2025-12-31T23:59:59.999Z" },
        proxy: { protocol: "socks5", host: "proxy.example.net", port: 1080, username: "proxy-user", has_password: true },
        recruiter_contract_id: "rc-42",
      },
    });
    expect(JSON.stringify(r.body)).not.toMatch(/secret/);
  });

  it("a 2FA checkpoint: 202, a wrong code 400 invalid_checkpoint_code, resend 202, the right code 201", async () => {
    const user = login("2fa");
    const first = await connect({ provider: "LINKEDIN", username: user, password: "li-secret" });
    expect(first.status).toBe(202);
    expect(first.body).toMatchObject({ object: "Checkpoint", checkpoint: { type: "2FA", code_sent_to: expect.any(String), expires_at: expect.any(String) } });
    const accountId = first.body.account_id as string;
    const solve = (code: string) => restChecked(server.httpUrl, "POST", "/api/v1/accounts/checkpoint", { body: { account_id: accountId, code, provider: "LINKEDIN" }, apiKey: server.apiKey });
    expectProblem(await solve("000000"), 400, "errors/invalid_checkpoint_code");
    const resent = await restChecked(server.httpUrl, "POST", "/api/v1/accounts/checkpoint/resend", { body: { account_id: accountId, provider: "LINKEDIN" }, apiKey: server.apiKey });
    expect(resent.status).toBe(202);
    expect(resent.body).toMatchObject({ object: "Checkpoint", account_id: accountId, checkpoint: { type: "2FA" } });
    const solved = await solve(SCRIPT_CODE);
    expect(solved.status).toBe(201);
    expect(solved.body).toEqual({ object: "AccountCreated", account_id: accountId });
  });

  it("a captcha checkpoint carries its data and is solved with the answer", async () => {
    const first = await connect({ provider: "TWITTER", username: login("captcha"), email: "anna@acme.com", password: "x-secret" });
    expect(first.status).toBe(202);
    expect(first.body).toMatchObject({ checkpoint: { type: "CAPTCHA", captcha_data: expect.stringMatching(/^data:/) } });
    const solved = await restChecked(server.httpUrl, "POST", "/api/v1/accounts/checkpoint", { body: { account_id: first.body.account_id, code: CAPTCHA_ANSWER }, apiKey: server.apiKey });
    expect(solved.status).toBe(201);
  });

  it("WhatsApp with pairing_phone_number: a PAIRING_CODE checkpoint", async () => {
    const r = await connect({ provider: "WHATSAPP", pairing_phone_number: "+33612345678" });
    expect(r.status).toBe(202);
    expect(r.body).toMatchObject({ checkpoint: { type: "PAIRING_CODE", pairing_code: expect.any(String) } });
  });

  it.each([
    ["wrong", 401, "errors/invalid_credentials"],
    ["restricted", 403, "errors/account_restricted"],
  ] as const)("a provider failure (%s) is problem details with its contract status %d", async (keyword, status, type) => {
    expectProblem(await connect({ provider: "INSTAGRAM", username: login(keyword), password: "ig-secret" }), status, type);
  });

  it("a second intent for the same identity: 425 errors/auth_in_progress, with Retry-After", async () => {
    const user = login("2fa");
    expect((await connect({ provider: "MESSENGER", username: user, password: "fb-secret" })).status).toBe(202);
    const again = await connect({ provider: "MESSENGER", username: user, password: "fb-secret" });
    expectProblem(again, 425, "errors/auth_in_progress");
    expect(Number(again.headers.get("retry-after"))).toBeGreaterThan(0);
  });

  it("the same identity linked twice: 409 errors/already_exists", async () => {
    const body = { provider: "TWITTER", username: login("ok"), email: "anna@acme.com", password: "x-secret" };
    expect((await connect(body)).status).toBe(201);
    expectProblem(await connect(body), 409, "errors/already_exists");
  });

  it("secrets of the request appear in no answer and no log line", async () => {
    const r = await connect({ provider: "LINKEDIN", username: login("wrong"), password: "PLANTED-li-password", proxy: { host: "proxy.example.net", port: 8080, password: "PLANTED-proxy" } });
    expectProblem(r, 401, "errors/invalid_credentials");
    const bad = await connectInvalid({ provider: "MAIL", imap_password: { nested: "PLANTED-imap" }, smtp_password: 42 });
    expect(bad.status).toBe(400);
    for (const text of [JSON.stringify(r.body), JSON.stringify(bad.body), server.logs.join("\n")]) expect(text).not.toContain("PLANTED");
  });
});
