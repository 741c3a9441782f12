import { create, toJson, type JsonObject } from "@bufbuild/protobuf";
import { isReflectMessage, reflect } from "@bufbuild/protobuf/reflect";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AccountService, ConnectAccountRequestSchema } from "../../gen/postpress/accounts/v1/account_service_pb.js";
import { DisabledFeature, MailSyncLimit } from "../../gen/postpress/accounts/v1/options_pb.js";
import { ImapEncryption } from "../../gen/postpress/accounts/v1/variants_pb.js";
import type { VariantCase } from "../../src/domain/connectors/connector.ts";
import { callRpc, connectJson, WIRES, type RpcResult } from "../support/clients.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import { ALL_VARIANTS } from "../support/test-connectors.ts";
import { minimalRequest, validRequest, variantField, type ConnectInit } from "./examples.ts";

/**
 * Validation through the real server with no connector configured: a request that passes
 * validation reaches the connector registry and answers UNIMPLEMENTED
 * errors/feature_not_implemented, which proves it passed.
 */

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

const connectAccount = AccountService.method.connectAccount;

/** The spec's required fields of each variant (proto names). */
const REQUIRED: Record<VariantCase, string[]> = {
  linkedinBasic: ["username", "password"],
  linkedinCookie: ["access_token"],
  whatsapp: [],
  instagramBasic: ["username", "password"],
  instagramCookie: ["sessionid"],
  messengerBasic: ["username", "password"],
  messengerSession: ["cookies"],
  mail: ["imap_user", "smtp_user", "imap_password", "smtp_password", "imap_host", "imap_port", "smtp_host", "smtp_port", "imap_encryption"],
  googleOauth: ["refresh_token", "access_token"],
  telegram: [],
  outlook: ["refresh_token", "access_token", "username", "id"],
  twitter: ["username", "email", "password"],
};

const PROXY_VARIANTS = ["linkedinBasic", "linkedinCookie", "whatsapp", "instagramBasic", "instagramCookie", "messengerBasic", "messengerSession"] as const satisfies VariantCase[];

function expectNotImplemented(r: RpcResult<unknown>, variant: VariantCase) {
  expect(r.ok).toBe(false);
  if (r.ok) return;
  expect(r.error.badRequest, `validation failed: ${JSON.stringify(r.error.badRequest?.fieldViolations.map((v) => `${v.field}: ${v.description}`))}`).toBeUndefined();
  expect(r.error.code).toBe(Code.Unimplemented);
  expect(r.error.errorInfo?.metadata.type).toBe("errors/feature_not_implemented");
  expect(r.error.errorInfo?.metadata.variant).toBe(variant);
}

function expectViolations(r: RpcResult<unknown>, type: "missing" | "invalid", fields: string[]) {
  expect(r.ok).toBe(false);
  if (r.ok) return;
  const got = r.error.badRequest?.fieldViolations ?? [];
  expect(got.map((v) => v.field).sort()).toEqual([...fields].sort());
  for (const v of got) expect(v.description).not.toBe("");
  expect(r.error.code).toBe(Code.InvalidArgument);
  expect(r.error.errorInfoCount).toBe(1);
  expect(r.error.errorInfo?.metadata.type).toBe(type === "missing" ? "errors/missing_parameters" : "errors/invalid_parameters");
  expect(r.error.errorInfo?.reason).toBe(type === "missing" ? "MISSING_PARAMETERS" : "INVALID_PARAMETERS");
  expect(r.error.retryInfo).toBeUndefined();
}

/** The same request over every wire must break the same rules. */
async function expectRejected(request: ConnectInit, type: "missing" | "invalid", fields: string[]) {
  for (const wire of WIRES) {
    const r = await callRpc(server, wire, connectAccount, request, { apiKey: server.apiKey });
    try {
      expectViolations(r, type, fields);
    } catch (e) {
      throw new Error(`over ${wire}: ${(e as Error).message}`, { cause: e });
    }
  }
}

/** A valid request of `variant` with some of its variant fields replaced. */
function patched(variant: VariantCase, patch: Record<string, unknown>, shared: Record<string, unknown> = {}): ConnectInit {
  const base = validRequest(variant);
  return { ...base, ...shared, variant: { case: variant, value: { ...(base.variant!.value as object), ...patch } } } as ConnectInit;
}

/** A valid request of `variant` with one (proto-named) field of the variant left out. */
function without(variant: VariantCase, ...fieldNames: string[]): ConnectInit {
  const message = create(ConnectAccountRequestSchema, validRequest(variant));
  const variantMessage = reflect(ConnectAccountRequestSchema, message).get(ConnectAccountRequestSchema.field[variant]);
  if (!isReflectMessage(variantMessage)) throw new Error("variant is not a message");
  for (const name of fieldNames) {
    const field = variantMessage.desc.fields.find((f) => f.name === name);
    if (!field) throw new Error(`${variant} has no field ${name}`);
    variantMessage.clear(field);
  }
  return message;
}

describe("a valid example of every variant passes validation", () => {
  describe.each(WIRES)("over %s", (wire) => {
    it.each(ALL_VARIANTS)("%s, every option set", async (variant) => {
      expectNotImplemented(await callRpc(server, wire, connectAccount, validRequest(variant), { apiKey: server.apiKey }), variant);
    });
    it.each(ALL_VARIANTS)("%s, required fields only (boundary ports 1 and 65535 for mail)", async (variant) => {
      expectNotImplemented(await callRpc(server, wire, connectAccount, minimalRequest(variant), { apiKey: server.apiKey }), variant);
    });
  });
});

describe("required fields of each variant", () => {
  const cases = ALL_VARIANTS.flatMap((v) => REQUIRED[v].map((f) => [v, f] as const));
  it.each(cases)("%s without %s → errors/missing_parameters naming it", async (variant, field) => {
    await expectRejected(without(variant, field), "missing", [`${variantField[variant]}.${field}`]);
  });
  it.each(ALL_VARIANTS.filter((v) => REQUIRED[v].length > 1))("%s without any required field → one violation each, all missing", async (variant) => {
    await expectRejected(without(variant, ...REQUIRED[variant]), "missing", REQUIRED[variant].map((f) => `${variantField[variant]}.${f}`));
  });
  it("no variant at all (oneof required) → errors/missing_parameters on variant", async () => {
    await expectRejected({ country: "FR" }, "missing", ["variant"]);
  });
  it("a missing field together with an invalid one → errors/invalid_parameters with both", async () => {
    await expectRejected(patched("twitter", { username: "", email: "not-an-email" }), "invalid", ["twitter.username", "twitter.email"]);
  });
});

describe("shared options", () => {
  it.each([
    ["FRA", ["country", "country"]],
    ["F", ["country", "country"]],
    ["F1", ["country"]],
    ["é!", ["country"]],
  ] as const)("country %j breaks length 2 / the letters pattern", async (country, fields) => {
    await expectRejected(patched("twitter", {}, { country }), "invalid", [...fields]);
  });
  it.each(["999.1.1.1", "example.com", "1.2.3", "2001:db8::g"])("ip %j is not an IP address", async (ip) => {
    await expectRejected(patched("twitter", {}, { ip }), "invalid", ["ip"]);
  });
  it("disabled_features: UNSPECIFIED is refused", async () => {
    await expectRejected(patched("linkedinBasic", {}, { disabledFeatures: [DisabledFeature.LINKEDIN_RECRUITER, DisabledFeature.UNSPECIFIED] }), "invalid", ["disabled_features[1]"]);
  });
  it("disabled_features: duplicates are refused", async () => {
    await expectRejected(patched("linkedinBasic", {}, { disabledFeatures: [DisabledFeature.LINKEDIN_SALES_NAVIGATOR, DisabledFeature.LINKEDIN_SALES_NAVIGATOR] }), "invalid", ["disabled_features"]);
  });
  it("disabled_features: a value outside the enum is refused", async () => {
    await expectRejected(patched("linkedinBasic", {}, { disabledFeatures: [99 as DisabledFeature] }), "invalid", ["disabled_features[0]"]);
  });
});

describe("mail", () => {
  it.each([
    ["imapPort", 65536, "mail.imap_port"],
    ["smtpPort", 65536, "mail.smtp_port"],
    ["smtpPort", 70000, "mail.smtp_port"],
  ] as const)("%s %d is out of range", async (field, port, path) => {
    await expectRejected(patched("mail", { [field]: port }), "invalid", [path]);
  });
  it.each([
    ["imapPort", "mail.imap_port"],
    ["smtpPort", "mail.smtp_port"],
  ] as const)("%s 0 (not sent) is a missing parameter", async (field, path) => {
    await expectRejected(patched("mail", { [field]: 0 }), "missing", [path]);
  });
  it("imap_encryption unspecified is a missing parameter", async () => {
    await expectRejected(patched("mail", { imapEncryption: ImapEncryption.UNSPECIFIED }), "missing", ["mail.imap_encryption"]);
  });
  it("imap_encryption outside the enum is invalid", async () => {
    await expectRejected(patched("mail", { imapEncryption: 99 as ImapEncryption }), "invalid", ["mail.imap_encryption"]);
  });
  it("hosts must be a host name or an IP address", async () => {
    await expectRejected(patched("mail", { imapHost: "not a host!", smtpHost: "-bad-.example" }), "invalid", ["mail.imap_host", "mail.smtp_host"]);
  });
  it.each(["mail", "googleOauth", "outlook"] as const)("%s sync_limit outside the enum is invalid", async (variant) => {
    await expectRejected(patched(variant, { syncLimit: 7 as MailSyncLimit }), "invalid", [`${variantField[variant]}.sync_limit`]);
  });
});

describe("proxy, on every variant that takes one", () => {
  it.each(PROXY_VARIANTS)("%s: proxy host is required", async (variant) => {
    await expectRejected(patched(variant, { proxy: { host: "", port: 3128 } }), "missing", [`${variantField[variant]}.proxy.host`]);
  });
  it.each(PROXY_VARIANTS)("%s: proxy port 0 is missing, 65536 is out of range", async (variant) => {
    await expectRejected(patched(variant, { proxy: { host: "proxy.example.net", port: 0 } }), "missing", [`${variantField[variant]}.proxy.port`]);
    await expectRejected(patched(variant, { proxy: { host: "proxy.example.net", port: 65536 } }), "invalid", [`${variantField[variant]}.proxy.port`]);
  });
  it("proxy host must be a host name or IP; protocol must be defined", async () => {
    await expectRejected(patched("linkedinBasic", { proxy: { host: "a b", port: 8080, protocol: 9 } }), "invalid", ["linkedin_basic.proxy.host", "linkedin_basic.proxy.protocol"]);
  });
});

describe("messenger session cookies and headers", () => {
  const cookie = { name: "c_user", value: "1000" };
  it("an empty cookie list is a missing parameter", async () => {
    await expectRejected(patched("messengerSession", { cookies: [] }), "missing", ["messenger_session.cookies"]);
  });
  it("cookie name and value are required, with the item's index in the path", async () => {
    await expectRejected(patched("messengerSession", { cookies: [{ ...cookie, name: "" }, { ...cookie, value: "" }] }), "missing", ["messenger_session.cookies[0].name", "messenger_session.cookies[1].value"]);
  });
  it("sameSite outside the enum and a non-finite expirationDate are invalid", async () => {
    await expectRejected(patched("messengerSession", { cookies: [cookie, { ...cookie, sameSite: 12 }, { ...cookie, expirationDate: Infinity }] }), "invalid", [
      "messenger_session.cookies[1].same_site",
      "messenger_session.cookies[2].expiration_date",
    ]);
  });
  it("header names may not be empty", async () => {
    await expectRejected(patched("messengerSession", { headers: { "": "x" } }), "invalid", ['messenger_session.headers[""]']);
  });
  it("header values are bounded", async () => {
    await expectRejected(patched("messengerSession", { headers: { "x-big": "v".repeat(8193) } }), "invalid", ['messenger_session.headers["x-big"]']);
  });
});

describe("variant-specific rules", () => {
  it.each(["not-an-email", "anna@", "@acme.com", "anna acme.com"])("twitter email %j must be an e-mail address", async (email) => {
    await expectRejected(patched("twitter", { email }), "invalid", ["twitter.email"]);
  });
  it.each(["12345", "+0612345678", "+33 6 12 34 56 78", "phone", "+1234567890123456789012"])("whatsapp pairing phone %j must match the international pattern", async (phone) => {
    await expectRejected(patched("whatsapp", { pairingPhoneNumber: phone }), "invalid", ["whatsapp.pairing_phone_number"]);
  });
  it("string lengths are bounded (a 321-character username)", async () => {
    await expectRejected(patched("twitter", { username: "a".repeat(321) }), "invalid", ["twitter.username"]);
  });
  it("sync_limit counts are bounded", async () => {
    await expectRejected(patched("linkedinBasic", { syncLimit: { chats: { bound: { case: "count", value: 1_000_001 } } } }), "invalid", ["linkedin_basic.sync_limit.chats.count"]);
  });
});

describe("raw JSON (Connect JSON as curl sends it)", () => {
  function json(variant: VariantCase): JsonObject {
    return toJson(ConnectAccountRequestSchema, create(ConnectAccountRequestSchema, validRequest(variant))) as JsonObject;
  }
  async function postJson(body: JsonObject) {
    return connectJson(server.httpUrl, connectAccount, JSON.stringify(body), { "x-api-key": server.apiKey });
  }
  it("JSON names and enum names are accepted", async () => {
    const body = json("messengerSession");
    expect(JSON.stringify(body)).toContain('"httpOnly"');
    expect(JSON.stringify(body)).toContain('"sameSite":"COOKIE_SAME_SITE_NO_RESTRICTION"');
    expectNotImplemented(await postJson(body), "messengerSession");
  });
  it("enum values out of range, sent as raw numbers, are invalid (each named by its path)", async () => {
    const body = json("mail");
    (body.mail as JsonObject).imapEncryption = 99;
    (body.mail as JsonObject).syncLimit = 5;
    body.disabledFeatures = [1, 42];
    expectViolations(await postJson(body), "invalid", ["mail.imap_encryption", "mail.sync_limit", "disabled_features[1]"]);
  });
  it("an enum number inside a cookie and a proxy protocol number are invalid", async () => {
    const body = json("messengerSession");
    const session = body.messengerSession as JsonObject;
    ((session.cookies as JsonObject[])[0] as JsonObject).sameSite = 4;
    (session.proxy as JsonObject).protocol = -1;
    expectViolations(await postJson(body), "invalid", ["messenger_session.cookies[0].same_site", "messenger_session.proxy.protocol"]);
  });
  it("imapEncryption as the name of UNSPECIFIED is a missing parameter", async () => {
    const body = json("mail");
    (body.mail as JsonObject).imapEncryption = "IMAP_ENCRYPTION_UNSPECIFIED";
    expectViolations(await postJson(body), "missing", ["mail.imap_encryption"]);
  });
  it("ports 0 and 65536 in JSON", async () => {
    const body = json("mail");
    (body.mail as JsonObject).imapPort = 0;
    (body.mail as JsonObject).smtpPort = 65536;
    expectViolations(await postJson(body), "invalid", ["mail.imap_port", "mail.smtp_port"]);
  });
});
