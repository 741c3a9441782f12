import { randomBytes } from "node:crypto";
import { create, toJson, toJsonString, type JsonObject } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AccountService, ConnectAccountRequestSchema } from "../../gen/postpress/accounts/v1/account_service_pb.js";
import { AccountSchema } from "../../gen/postpress/accounts/v1/account_pb.js";
import { generateApiKey } from "../../src/auth/api-key.ts";
import { callRpc, connectJson, WIRES, type RpcFailure, type RpcResult } from "../support/clients.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import { ALL_VARIANTS, scriptedConnector, type ScriptedConnector } from "../support/test-connectors.ts";
import { validRequest, type ConnectInit } from "./examples.ts";

/**
 * No secret reaches a log line or an answer: requests carrying secrets in every secret field
 * of every variant go through every wire, succeeding and failing (validation, connector,
 * undecodable bodies, bad API keys), and then the captured logs and every answer are searched.
 */

let server: TestServer;
let connector: ScriptedConnector;
const secrets = new Set<string>();
const answers: string[] = [];
let unknownKey: string;

function secret(label: string): string {
  const value = `S3CR3T-${label}-${randomBytes(6).toString("hex")}`;
  secrets.add(value);
  return value;
}

function record(r: RpcResult<unknown>): RpcFailure | undefined {
  answers.push(JSON.stringify(r, (_k, v: unknown) => (typeof v === "bigint" ? String(v) : v instanceof Uint8Array ? Buffer.from(v).toString("latin1") : v)));
  return r.ok ? undefined : r.error;
}

/** The connector's command goes in the proxy user name, a non-secret field every proxy variant has... or in the login. */
function scripted(variant: (typeof ALL_VARIANTS)[number], command: string, n: number): ConnectInit {
  const request = validRequest(variant, { secret: (label) => secret(`${variant}-${label}`), login: `user-${variant}-${n}` });
  const value = request.variant!.value as Record<string, unknown>;
  if (value.proxy) value.proxy = { ...(value.proxy as object), username: command };
  else if ("username" in value) value.username = command;
  else if ("imapUser" in value) value.imapUser = command;
  else if (variant === "googleOauth") value.refreshToken = command; // its access token stays a secret
  else if (variant === "telegram") request.variant = { case: "telegram", value: { password: command, syncLimit: value.syncLimit as never } };
  return request;
}

beforeAll(async () => {
  connector = scriptedConnector(ALL_VARIANTS);
  server = await startTestServer({ connectors: [connector] });
  secrets.add(server.apiKey);
  secrets.add(keySecret(server.apiKey));
  unknownKey = generateApiKey().token;
  secrets.add(unknownKey);
  secrets.add(keySecret(unknownKey));
});
afterAll(() => server.close());

let n = 0;

describe.each(WIRES)("over %s", (wire) => {
  const call = (request: ConnectInit, apiKey = server.apiKey) => callRpc(server, wire, AccountService.method.connectAccount, request, { apiKey });

  it.each(ALL_VARIANTS)("%s: success, then read back", async (variant) => {
    const r = await call(validRequest(variant, { secret: (label) => secret(`${variant}-${label}`), login: `user-${variant}-${++n}` }));
    record(r);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const got = await callRpc(server, wire, AccountService.method.getAccount, { accountId: r.response.accountId }, { apiKey: server.apiKey });
    expect(got.ok).toBe(true);
    if (got.ok) answers.push(toJsonString(AccountSchema, got.response.account!));
  });

  it.each(ALL_VARIANTS)("%s: validation failure", async (variant) => {
    const request = { ...validRequest(variant, { secret: (label) => secret(`${variant}-${label}`), login: `user-${variant}-${++n}` }), country: "FRA", ip: "nope" };
    expect(record(await call(request))?.errorInfo?.metadata.type).toBe("errors/invalid_parameters");
  });

  it.each(ALL_VARIANTS)("%s: a secret that breaks a rule itself (too long)", async (variant) => {
    const request = validRequest(variant, { secret: (label) => secret(`${variant}-${label}`).padEnd(9000, "x"), login: `user-${variant}-${++n}` });
    const e = record(await call(request));
    // Every secret field of these variants is bounded; WhatsApp's only secret is the proxy password.
    expect(e?.errorInfo?.metadata.type).toBe("errors/invalid_parameters");
  });

  it.each(ALL_VARIANTS)("%s: the provider refuses (errors/invalid_credentials)", async (variant) => {
    const e = record(await call(scripted(variant, "throw:invalid_credentials", ++n)));
    expect(e?.errorInfo?.metadata.type).toBe("errors/invalid_credentials");
  });

  it.each(ALL_VARIANTS)("%s: the connector crashes (errors/unexpected_error, cause logged)", async (variant) => {
    const e = record(await call(scripted(variant, "crash", ++n)));
    expect(e?.errorInfo?.metadata.type).toBe("errors/unexpected_error");
  });

  it("bad API keys (unknown, revoked-looking, malformed) carrying the request's secrets", async () => {
    const request = validRequest("mail", { secret: (label) => secret(`badkey-${label}`) });
    expect(record(await call(request, unknownKey))?.errorInfo?.metadata.type).toBe("errors/invalid_api_key");
    const malformed = secret("malformed-key");
    expect(record(await call(request, malformed))?.errorInfo?.metadata.type).toBe("errors/invalid_api_key");
  });
});

describe("bodies that do not decode, carrying secrets", () => {
  it.each(ALL_VARIANTS)("%s: JSON with a wrong type next to the secrets", async (variant) => {
    const body = toJson(ConnectAccountRequestSchema, create(ConnectAccountRequestSchema, validRequest(variant, { secret: (label) => secret(`json-${variant}-${label}`) }))) as JsonObject;
    body.country = 12;
    const e = record(await connectJson(server.httpUrl, AccountService.method.connectAccount, JSON.stringify(body), { "x-api-key": server.apiKey }));
    expect(e?.errorInfo?.metadata.type).toBe("errors/undecodable_request");
  });
  it("a secret sent with the wrong JSON type is not echoed", async () => {
    const password = 987650000 + Math.floor(Math.random() * 9999);
    secrets.add(String(password));
    const cookie = secret("cookie-in-object");
    for (const body of [
      { twitter: { username: "anna", email: "a@b.co", password } },
      { messengerSession: { cookies: [{ name: "c_user", value: { nested: cookie } }] } },
      { mail: { imapPassword: [cookie] } },
    ]) {
      const e = record(await connectJson(server.httpUrl, AccountService.method.connectAccount, JSON.stringify(body), { "x-api-key": server.apiKey }));
      expect(e?.errorInfo?.metadata.type).toBe("errors/undecodable_request");
    }
  });
});

describe("afterwards", () => {
  it("the connector did run for every variant (the secrets went all the way through)", () => {
    for (const variant of ALL_VARIANTS) expect(connector.calls.some((c) => c.typeName.toLowerCase().includes(variant.toLowerCase()))).toBe(true);
    expect(secrets.size).toBeGreaterThan(100);
    expect(server.logs.length).toBeGreaterThan(200);
  });
  it("no secret appears in any captured log line", () => {
    const leaks = [...secrets].filter((s) => server.logs.some((l) => l.includes(s)));
    expect(leaks).toEqual([]);
  });
  it("no secret appears in any answer (error messages, ErrorInfo metadata, BadRequest, accounts read back)", () => {
    expect(answers.length).toBeGreaterThan(200);
    const leaks = [...secrets].filter((s) => answers.some((a) => a.includes(s)));
    expect(leaks).toEqual([]);
  });
  it("the unexpected errors were logged with their cause (so the log is not just empty)", () => {
    expect(server.logs.some((l) => l.includes("test connector crashed"))).toBe(true);
  });
});

/** The secret part of `ppa_<ULID>_<secret>` (the secret itself may contain "_"). */
function keySecret(token: string): string {
  const secretPart = token.slice("ppa_".length + 26 + 1);
  expect(secretPart).toHaveLength(43);
  return secretPart;
}
