/**
 * Each validation rule of the contract over REST: 400 problem details naming the field as the
 * flat body spells it. No connector is configured, so a body that passes validation answers
 * 501 errors/feature_not_implemented, which proves it passed.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/server.ts";
import { expectProblem, restChecked, type RestResponse } from "./support.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

type Body = Record<string, unknown>;

const proxy = { protocol: "socks5", host: "proxy.example.net", port: 1080, username: "u", password: "p" };
const VALID: Record<string, Body> = {
  linkedin: { provider: "LINKEDIN", username: "anna@acme.com", password: "pw", proxy, country: "FR" },
  linkedinCookie: { provider: "LINKEDIN", access_token: "AQED", proxy },
  whatsapp: { provider: "WHATSAPP", pairing_phone_number: "+33612345678", proxy },
  instagram: { provider: "INSTAGRAM", username: "anna", password: "pw", proxy },
  instagramCookie: { provider: "INSTAGRAM", sessionid: "sid", proxy },
  messenger: { provider: "MESSENGER", username: "anna", password: "pw", proxy },
  messengerSession: { provider: "MESSENGER", cookies: [{ name: "c_user", value: "1" }], proxy },
  mail: { provider: "MAIL", imap_user: "u", smtp_user: "u", imap_password: "p", smtp_password: "p", imap_host: "imap.example.com", imap_port: 993, smtp_host: "smtp.example.com", smtp_port: 465, imap_encryption: "starttls" },
  google: { provider: "GOOGLE_OAUTH", refresh_token: "r", access_token: "a" },
  telegram: { provider: "TELEGRAM" },
  outlook: { provider: "OUTLOOK", refresh_token: "r", access_token: "a", username: "u@contoso.com", id: "1" },
  twitter: { provider: "TWITTER", username: "anna", email: "anna@acme.com", password: "pw" },
};

/** The document describes valid bodies; these are not, so only the answers are checked against it. */
const post = (body: unknown) => restChecked(server.httpUrl, "POST", "/api/v1/accounts", { body, apiKey: server.apiKey }, { requestValid: false });

function expectFields(r: RestResponse, type: "missing" | "invalid", fields: string[]) {
  expectProblem(r, 400, type === "missing" ? "errors/missing_parameters" : "errors/invalid_parameters");
  const params = (r.body.invalid_params ?? []) as { name: string; reason: string }[];
  expect(params.map((p) => p.name).sort()).toEqual([...fields].sort());
  for (const p of params) expect(p.reason).not.toBe("");
  for (const f of fields) expect(r.body.detail as string).toContain(`${f}: `);
}

describe("valid bodies pass validation", () => {
  it.each(Object.entries(VALID))("%s", async (_name, body) => {
    const r = await restChecked(server.httpUrl, "POST", "/api/v1/accounts", { body, apiKey: server.apiKey });
    expectProblem(r, 501, "errors/feature_not_implemented");
  });
});

describe("required fields, by their flat names", () => {
  const cases: [string, string][] = [
    ["linkedin", "username"],
    ["linkedin", "password"],
    ["mail", "imap_user"],
    ["mail", "imap_port"],
    ["mail", "imap_encryption"],
    ["mail", "smtp_host"],
    ["google", "refresh_token"],
    ["outlook", "id"],
    ["twitter", "email"],
  ];
  it.each(cases)("%s without %s → 400 errors/missing_parameters naming it", async (variant, field) => {
    const { [field]: _dropped, ...body } = VALID[variant]!;
    expectFields(await post(body), "missing", [field]);
  });
  it("no provider → missing_parameters on provider", async () => {
    expectFields(await post({ username: "anna", password: "pw" }), "missing", ["provider"]);
  });
  it.each([
    ["LINKEDIN", "access_token"],
    ["INSTAGRAM", "sessionid"],
  ])("%s with neither credential: the basic variant's username and password are missing", async (provider) => {
    expectFields(await post({ provider, user_agent: "ua" }), "missing", ["username", "password"]);
  });
  it("a cookie's name and value are required, with the item's index", async () => {
    expectFields(await post({ ...VALID.messengerSession, cookies: [{ name: "", value: "1" }, { name: "xs" }] }), "missing", ["cookies[0].name", "cookies[1].value"]);
  });
  it("Messenger session with an empty cookie list → missing cookies", async () => {
    expectFields(await post({ ...VALID.messengerSession, cookies: [] }), "missing", ["cookies"]);
  });
});

describe("the contract's rules, each named as the flat body names it", () => {
  it.each([
    ["country", { ...VALID.twitter, country: "FRA" }, ["country", "country"]],
    ["ip", { ...VALID.twitter, ip: "999.1.1.1" }, ["ip"]],
    ["proxy.port", { ...VALID.linkedin, proxy: { ...proxy, port: 65536 } }, ["proxy.port"]],
    ["proxy.host", { ...VALID.whatsapp, proxy: { ...proxy, host: "a b" } }, ["proxy.host"]],
    ["imap_port", { ...VALID.mail, imap_port: 70000 }, ["imap_port"]],
    ["smtp_host", { ...VALID.mail, smtp_host: "-bad-.example" }, ["smtp_host"]],
    ["headers", { ...VALID.messengerSession, headers: { "x-big": "v".repeat(8193) } }, ['headers["x-big"]']],
    ["email", { ...VALID.twitter, email: "not-an-email" }, ["email"]],
    ["pairing_phone_number", { ...VALID.whatsapp, pairing_phone_number: "12345" }, ["pairing_phone_number"]],
    ["username length", { ...VALID.twitter, username: "a".repeat(321) }, ["username"]],
    ["sync_limit.chats count", { ...VALID.linkedin, sync_limit: { chats: 1_000_001 } }, ["sync_limit.chats"]],
    ["disabled_features duplicates", { ...VALID.linkedin, disabled_features: ["linkedin_recruiter", "linkedin_recruiter"] }, ["disabled_features"]],
  ] as const)("%s", async (_rule, body, fields) => {
    expectFields(await post(body), "invalid", [...fields]);
  });
});

describe("the flat body's own shape: contract strings and types", () => {
  it.each([
    ["an unknown provider", { ...VALID.twitter, provider: "MYSPACE" }, ["provider"]],
    ["imap_encryption outside tls|ssl|starttls|default", { ...VALID.mail, imap_encryption: "IMAP_ENCRYPTION_TLS" }, ["imap_encryption"]],
    ["a proxy protocol outside https|http|socks5", { ...VALID.linkedin, proxy: { ...proxy, protocol: "ftp" } }, ["proxy.protocol"]],
    ["a cookie sameSite outside the contract's values", { ...VALID.messengerSession, cookies: [{ name: "a", value: "1", sameSite: "none" }] }, ["cookies[0].sameSite"]],
    ["mail sync_limit other than NO_HISTORY_SYNC", { ...VALID.mail, sync_limit: { chats: 1 } }, ["sync_limit"]],
    ["a sync bound that is neither a date-time nor a count", { ...VALID.telegram, sync_limit: { chats: "yesterday", messages: -1 } }, ["sync_limit.chats", "sync_limit.messages"]],
    ["a disabled feature outside the list", { ...VALID.linkedin, disabled_features: ["linkedin_recruiter", "inbox"] }, ["disabled_features[1]"]],
    ["a port sent as a string", { ...VALID.mail, imap_port: "993" }, ["imap_port"]],
    ["a field of another variant", { ...VALID.twitter, imap_host: "imap.example.com" }, ["imap_host"]],
    ["both LinkedIn credentials", { ...VALID.linkedin, access_token: "AQED" }, ["username", "password"]],
    ["an unknown field inside the proxy", { ...VALID.linkedin, proxy: { ...proxy, realm: "x" } }, ["proxy.realm"]],
  ] as const)("%s → 400 invalid_parameters", async (_name, body, fields) => {
    expectFields(await post(body), "invalid", [...fields]);
  });
  it("a body that is not an object → 400 invalid_parameters", async () => {
    expectProblem(await post([1, 2]), 400, "errors/invalid_parameters");
  });
});
