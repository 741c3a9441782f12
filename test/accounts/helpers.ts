import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import type { Code } from "@connectrpc/connect";
import { expect } from "vitest";
import { ulid } from "ulid";
import { ConnectAccountRequestSchema } from "../../gen/postpress/accounts/v1/account_service_pb.js";
import { DisabledFeature, ProxyProtocol } from "../../gen/postpress/accounts/v1/options_pb.js";
import { ImapEncryption } from "../../gen/postpress/accounts/v1/variants_pb.js";
import type { Sealer } from "../../src/crypto/sealer.ts";
import type { Row } from "../../src/store/sql.ts";
import type { RpcFailure, RpcResult, Wire } from "../support/clients.ts";
import { createScriptedConnector, type ScriptedConnector, type Step } from "../support/scripted-connector.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import { dropSchema, uniqueSchema, withPg } from "../support/pg.ts";

export type BackendKind = "sqlite" | "postgres";
export const BACKENDS: readonly BackendKind[] = ["sqlite", "postgres"];

export type ConnectRequest = MessageInitShape<typeof ConnectAccountRequestSchema>;

/** Reads rows straight from the database, around the store: what is really there. */
export interface RawDb {
  query(sql: string, params?: (string | number | null)[]): Promise<Row[]>;
}

export function rawPostgres(schema: string): RawDb {
  return {
    query: (sql, params = []) =>
      withPg(async (client) => {
        await client.query(`SET search_path TO ${schema}`);
        return (await client.query(sql, params)).rows as Row[];
      }),
  };
}

/** A second, read-only connection on the sqlite file (WAL lets it see what the server committed). */
export function rawSqlite(path: string): RawDb {
  return {
    async query(sql, params = []) {
      const db = new DatabaseSync(path, { readOnly: true });
      try {
        // The same $1..$n placeholders as PostgreSQL: node:sqlite binds them by name.
        return db.prepare(sql).all(Object.fromEntries(params.map((v, i) => [String(i + 1), v]))) as Row[];
      } finally {
        db.close();
      }
    },
  };
}

export interface Harness {
  kind: BackendKind;
  server: TestServer;
  connector: ScriptedConnector;
  raw: RawDb;
  /** The PostgreSQL schema (postgres only). */
  schema: string | undefined;
  sqlitePath: string;
  close(): Promise<void>;
}

/** The real server (startTestServer) over a real store, with the scripted connector injected through build(). */
export async function startHarness(kind: BackendKind, options: { defaultStep?: Step; intentTtlMs?: number; sealer?: Sealer } = {}): Promise<Harness> {
  const connector = createScriptedConnector(options.defaultStep);
  const schema = kind === "postgres" ? uniqueSchema("acct") : undefined;
  const server = await startTestServer({
    connectors: [connector],
    backend: kind,
    ...(schema ? { pgSchema: schema } : {}),
    ...(options.intentTtlMs ? { intentTtlMs: options.intentTtlMs } : {}),
    ...(options.sealer ? { sealer: options.sealer } : {}),
  }).catch(async (e: unknown) => {
    if (schema) await dropSchema(schema);
    throw e;
  });
  const sqlitePath = join(server.dataDir, "accounts.db");
  return {
    kind,
    server,
    connector,
    raw: schema ? rawPostgres(schema) : rawSqlite(sqlitePath),
    schema,
    sqlitePath,
    async close() {
      await connector.idle();
      await server.close();
      if (schema) await dropSchema(schema);
    },
  };
}

/** A distinctive secret: if it turns up anywhere it was leaked. */
export function secret(label: string): string {
  return `S3CRET-${label}-${randomBytes(9).toString("base64url")}`;
}

export function uniqueLogin(prefix: string): string {
  return `${prefix}_${ulid().toLowerCase().slice(-10)}`;
}

/** X: user name, e-mail, password. */
export function twitterRequest(username: string, password = secret("x-password")): ConnectRequest {
  return { variant: { case: "twitter", value: { username, email: `${username}@example.com`, password } } };
}

/** A mailbox: two passwords, sync limit. */
export function mailRequest(imapUser: string, secrets = { imap: secret("imap"), smtp: secret("smtp") }): ConnectRequest {
  return {
    country: "de",
    variant: {
      case: "mail",
      value: {
        imapUser,
        smtpUser: imapUser,
        imapPassword: secrets.imap,
        smtpPassword: secrets.smtp,
        imapHost: "imap.example.com",
        imapPort: 993,
        smtpHost: "smtp.example.com",
        smtpPort: 465,
        imapEncryption: ImapEncryption.TLS,
        syncLimit: 1,
      },
    },
  };
}

/** LinkedIn with every non-secret option the account keeps, and two secrets (password, proxy password). */
export function linkedinRequest(username: string, secrets = { password: secret("li-password"), proxyPassword: secret("proxy-password") }): ConnectRequest {
  return {
    country: "fr",
    ip: "203.0.113.7",
    disabledFeatures: [DisabledFeature.LINKEDIN_RECRUITER, DisabledFeature.LINKEDIN_SALES_NAVIGATOR],
    variant: {
      case: "linkedinBasic",
      value: {
        username,
        password: secrets.password,
        syncLimit: { chats: { bound: { case: "count", value: 25 } }, messages: { bound: { case: "since", value: { seconds: 1_767_225_599n, nanos: 0 } } } },
        proxy: { protocol: ProxyProtocol.SOCKS5, host: "proxy.example.net", port: 1080, username: "proxy-user", password: secrets.proxyPassword },
        userAgent: "Mozilla/5.0 (X11; Linux x86_64) TestAgent/1.0",
        recruiterContractId: "contract-42",
      },
    },
  };
}

/** The request's secret strings (every password / token field, however nested). */
export function secretsOf(request: ConnectRequest): string[] {
  const message = create(ConnectAccountRequestSchema, request);
  const v = message.variant;
  switch (v.case) {
    case "twitter":
      return [v.value.password];
    case "mail":
      return [v.value.imapPassword, v.value.smtpPassword];
    case "linkedinBasic":
      return [v.value.password, ...(v.value.proxy?.password ? [v.value.proxy.password] : [])];
    default:
      throw new Error(`no secrets known for ${v.case}`);
  }
}

/** The failure of a call that must fail, with its code and ErrorInfo type checked. */
export function expectFailure<O>(result: RpcResult<O>, code: Code, type: string): RpcFailure {
  if (result.ok) throw new Error(`expected ${type}, the call succeeded: ${JSON.stringify(result.response, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v))}`);
  expect({ code: result.error.code, type: result.error.errorInfo?.metadata.type, errorInfos: result.error.errorInfoCount }).toEqual({ code, type, errorInfos: 1 });
  return result.error;
}

export function expectOk<O>(result: RpcResult<O>): O {
  if (!result.ok) throw new Error(`expected success, got ${result.error.code} ${result.error.errorInfo?.metadata.type}: ${result.error.message}`);
  return result.response;
}

/** A deadline the server learns from the request headers, with no client-side timer racing its answer. */
export function deadlineHeaders(wire: Wire, ms: number): Record<string, string> {
  return wire === "grpc" || wire === "grpc-web" ? { "grpc-timeout": `${ms}m` } : { "connect-timeout-ms": String(ms) };
}

/** A stored time (sqlite: Unix ms, pg: Date). */
export function storedDate(value: unknown): Date {
  return value instanceof Date ? value : new Date(Number(value));
}

/** What the database holds for one provider identity: accounts and the intents of a login. */
export async function accountRows(raw: RawDb, providerUserId: string): Promise<Row[]> {
  return raw.query("SELECT * FROM accounts WHERE provider_user_id = $1 ORDER BY id", [providerUserId]);
}

export async function intentRows(raw: RawDb, identityKey: string): Promise<Row[]> {
  return raw.query("SELECT * FROM intents WHERE identity_key = $1 ORDER BY id", [identityKey]);
}

/** JSON of a response for leak checks (bigint-safe). */
export function jsonOf(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v instanceof Uint8Array ? Buffer.from(v).toString("base64") : v));
}
