import { randomBytes } from "node:crypto";
import { type DescMessage, type DescMethodUnary, type MessageInitShape, type MessageShape } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { expect } from "vitest";
import { ulid } from "ulid";
import { AccountService, ConnectAccountRequestSchema, type Checkpoint } from "../../../gen/postpress/accounts/v1/account_service_pb.js";
import { ProxyProtocol } from "../../../gen/postpress/accounts/v1/options_pb.js";
import type { ScriptedGateway } from "../../../tools/scripted-gateway/server.ts";
import { callRpc, type Endpoint, type RpcFailure, type RpcResult, type Wire } from "../../support/clients.ts";

export type ConnectRequest = MessageInitShape<typeof ConnectAccountRequestSchema>;

/** The unary wires of the two transports: grpc-js (native gRPC) and connect-node (Connect binary). */
export const TRANSPORTS = ["grpc", "connect-binary"] as const satisfies readonly Wire[];

/** A distinctive secret: if it shows up anywhere, it leaked. */
export function secret(label: string): string {
  return `S3CRET-${label}-${randomBytes(9).toString("base64url")}`;
}

/** A login whose keyword (before "+") scripts the gateway, unique per test. */
export function login(keyword: string): string {
  return `${keyword}+${ulid().toLowerCase().slice(-10)}`;
}

export function linkedinBasic(username: string, password = secret("li-password"), proxyPassword = secret("proxy-password")): ConnectRequest {
  return {
    country: "fr",
    ip: "203.0.113.7",
    variant: {
      case: "linkedinBasic",
      value: {
        username,
        password,
        syncLimit: { chats: { bound: { case: "count", value: 25 } } },
        proxy: { protocol: ProxyProtocol.SOCKS5, host: "proxy.example.net", port: 1080, username: "proxy-user", password: proxyPassword },
        userAgent: "Mozilla/5.0 TestAgent/1.0",
        recruiterContractId: "contract-42",
      },
    },
  };
}

export function linkedinCookie(accessToken = secret("li-at")): ConnectRequest {
  return { variant: { case: "linkedinCookie", value: { accessToken } } };
}

export function twitter(username: string, password = secret("x-password")): ConnectRequest {
  return { variant: { case: "twitter", value: { username, email: `${username.replace("+", ".")}@example.com`, password } } };
}

export function instagram(username: string, password = secret("ig-password")): ConnectRequest {
  return { variant: { case: "instagramBasic", value: { username, password, userAgent: "Instagram 300.0 Android" } } };
}

export function messenger(username: string, password = secret("fb-password")): ConnectRequest {
  return { variant: { case: "messengerBasic", value: { username, password } } };
}

export function messengerSession(cUser = ulid(), xs = secret("xs-cookie")): ConnectRequest {
  return {
    variant: {
      case: "messengerSession",
      value: { cookies: [{ name: "c_user", value: cUser }, { name: "xs", value: xs }], userName: "Anna" },
    },
  };
}

export function whatsapp(pairingPhoneNumber = "", proxyPassword?: string): ConnectRequest {
  return {
    variant: {
      case: "whatsapp",
      value: { pairingPhoneNumber, ...(proxyPassword ? { proxy: { host: "proxy.example.net", port: 3128, username: "wa", password: proxyPassword } } : {}) },
    },
  };
}

export function telegram(password = ""): ConnectRequest {
  return { variant: { case: "telegram", value: { password, syncLimit: { messages: { bound: { case: "count", value: 100 } } } } } };
}

/** A phone number no other test uses. */
export function phone(): string {
  return `+3361${String(Date.now() % 1e7).padStart(7, "0")}${Math.floor(Math.random() * 90 + 10)}`;
}

export interface Rpc {
  connect(request: ConnectRequest, options?: { timeoutMs?: number; apiKey?: string }): ReturnType<typeof call<typeof AccountService.method.connectAccount>>;
  solve(accountId: string, code: string, options?: { apiKey?: string }): ReturnType<typeof call<typeof AccountService.method.solveCheckpoint>>;
  resend(accountId: string): ReturnType<typeof call<typeof AccountService.method.resendCheckpoint>>;
  cancel(accountId: string): ReturnType<typeof call<typeof AccountService.method.cancelCheckpoint>>;
  get(accountId: string): ReturnType<typeof call<typeof AccountService.method.getAccount>>;
}

function call<M extends DescMethodUnary<DescMessage, DescMessage>>(
  endpoint: Endpoint,
  wire: Wire,
  method: M,
  request: MessageInitShape<M["input"]>,
  apiKey: string,
  timeoutMs?: number,
): Promise<RpcResult<MessageShape<M["output"]>>> {
  return callRpc(endpoint, wire, method as DescMethodUnary<M["input"], M["output"]>, request, { apiKey, ...(timeoutMs ? { timeoutMs } : {}) });
}

/** AccountService's unary calls over one wire, with the workspace's key. */
export function rpc(endpoint: Endpoint & { apiKey: string }, wire: Wire): Rpc {
  const m = AccountService.method;
  return {
    connect: (request, options = {}) => call(endpoint, wire, m.connectAccount, request, options.apiKey ?? endpoint.apiKey, options.timeoutMs),
    solve: (accountId, code, options = {}) => call(endpoint, wire, m.solveCheckpoint, { accountId, code }, options.apiKey ?? endpoint.apiKey),
    resend: (accountId) => call(endpoint, wire, m.resendCheckpoint, { accountId }, endpoint.apiKey),
    cancel: (accountId) => call(endpoint, wire, m.cancelCheckpoint, { accountId }, endpoint.apiKey),
    get: (accountId) => call(endpoint, wire, m.getAccount, { accountId }, endpoint.apiKey),
  };
}

export function expectOk<O>(result: RpcResult<O>): O {
  if (!result.ok) throw new Error(`expected success, got ${Code[result.error.code]} ${result.error.errorInfo?.metadata.type}: ${result.error.message}`);
  return result.response;
}

/** The failure of a call that must fail, with its gRPC code and ErrorInfo type checked. */
export function expectError<O>(result: RpcResult<O>, code: Code, type: string): RpcFailure {
  if (result.ok) throw new Error(`expected ${type}, the call succeeded: ${stringify(result.response)}`);
  expect({ code: Code[result.error.code], type: result.error.errorInfo?.metadata.type, errorInfos: result.error.errorInfoCount }).toEqual({ code: Code[code], type, errorInfos: 1 });
  return result.error;
}

export function stringify(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v instanceof Uint8Array ? Buffer.from(v).toString("base64") : v));
}

/** The gateway's intent id for a pending account id. */
export function intentAtGateway(gateway: ScriptedGateway, accountId: string): string {
  const start = gateway.received.find((r) => r.accountId === accountId);
  if (!start) throw new Error(`the gateway never heard of ${accountId}`);
  return start.intentId;
}

/** Every surface a secret must never reach, as text. */
export function leaks(secrets: string[], surfaces: Record<string, unknown>): string[] {
  const found: string[] = [];
  for (const [name, surface] of Object.entries(surfaces)) {
    const text = typeof surface === "string" ? surface : stringify(surface);
    for (const s of secrets) if (s && text.includes(s)) found.push(`${name} contains ${s.slice(0, 14)}...`);
  }
  return found;
}

/** Polls until `fn` returns a value (not undefined), or fails after `timeoutMs`. */
export async function eventually<T>(fn: () => Promise<T | undefined> | T | undefined, timeoutMs = 5000, what = "the condition"): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The checkpoint of a ConnectAccount / SolveCheckpoint / ResendCheckpoint answer (its outcome oneof), if that is what it is. */
export function checkpointOf(response: { outcome: { case: string | undefined; value?: unknown } }): Checkpoint | undefined {
  return response.outcome.case === "checkpoint" ? (response.outcome.value as Checkpoint) : undefined;
}
