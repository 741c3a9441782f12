import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AccountService } from "../../gen/postpress/accounts/v1/account_service_pb.js";
import { catalogue, contractKinds, type ErrorKind } from "../../src/errors/catalogue.ts";
import { ERROR_DOMAIN } from "../../src/errors/to-wire.ts";
import { callRpc, WIRES } from "../support/clients.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import { scriptedConnector, type ScriptedConnector } from "../support/test-connectors.ts";

/**
 * The contract's error table, kept in the repository (docs/errors.md, verbatim from the
 * original API) and read at test time so the catalogue cannot drift from it.
 */
const SPEC_PATH = fileURLToPath(new URL("../../docs/errors.md", import.meta.url));
const README_PATH = fileURLToPath(new URL("../../README.md", import.meta.url));

interface SpecRow {
  httpStatus: number;
  type: string;
  meaning: string;
}

function specRows(): SpecRow[] {
  const rows: SpecRow[] = [];
  for (const line of readFileSync(SPEC_PATH, "utf8").split("\n")) {
    const m = /^\|\s*(\d{3})\s*\|\s*`(errors\/\w+)`\s*\|\s*(.+?)\s*\|\s*$/.exec(line);
    if (m) rows.push({ httpStatus: Number(m[1]), type: m[2]!, meaning: m[3]! });
  }
  return rows;
}

/** The gRPC code the contract issue fixes for each HTTP status (and the two 409s and provider_error). */
function expectedCode(httpStatus: number, type: string): Code {
  switch (httpStatus) {
    case 400:
      return Code.InvalidArgument;
    case 401:
      return Code.Unauthenticated;
    case 403:
      return Code.PermissionDenied;
    case 404:
      // A path with no RPC behind it is what gRPC calls an unimplemented method.
      return type === "errors/unknown_method" ? Code.Unimplemented : Code.NotFound;
    case 407:
    case 502:
    case 503:
      return Code.Unavailable;
    case 408:
    case 504:
      return Code.DeadlineExceeded;
    case 409:
      if (type === "errors/already_exists") return Code.AlreadyExists;
      if (type === "errors/operation_canceled") return Code.Aborted;
      throw new Error(`no gRPC code fixed for 409 ${type}`);
    case 413:
      return Code.ResourceExhausted;
    case 415:
      return Code.InvalidArgument;
    case 425:
      return Code.Aborted;
    case 429:
      // google.rpc's mapping: RESOURCE_EXHAUSTED is HTTP 429 (a quota or a cap, here the pending-intent cap).
      return Code.ResourceExhausted;
    case 499:
      return Code.Canceled;
    case 500:
      return type === "errors/provider_error" ? Code.Unavailable : Code.Internal;
    case 501:
      return Code.Unimplemented;
    default:
      throw new Error(`no gRPC code fixed for HTTP ${httpStatus}`);
  }
}

/** Code.InvalidArgument → "INVALID_ARGUMENT", as gRPC names it. */
function grpcName(code: Code): string {
  return Code[code].replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase();
}

const allKinds = Object.keys(catalogue) as ErrorKind[];
const ownKinds = allKinds.filter((k) => !contractKinds.includes(k));

describe("the catalogue against the spec's error table", () => {
  const rows = specRows();

  it("the spec table has the contract's 34 rows", () => {
    expect(rows).toHaveLength(34);
  });

  it("contractKinds are exactly the spec's rows (type and HTTP status), no more, no less", () => {
    const fromCatalogue = contractKinds.map((k) => `${catalogue[k].httpStatus} ${catalogue[k].type}`).sort();
    const fromSpec = rows.map((r) => `${r.httpStatus} ${r.type}`).sort();
    expect(fromCatalogue).toEqual(fromSpec);
    expect(contractKinds).toHaveLength(34);
  });

  it.each(rows.map((r) => [`${r.httpStatus} ${r.type}`, r] as const))("%s: present with the fixed gRPC code, reason and message", (_name, row) => {
    const kind = contractKinds.find((k) => catalogue[k].type === row.type && catalogue[k].httpStatus === row.httpStatus);
    expect(kind, `no catalogue entry for ${row.httpStatus} ${row.type}`).toBeDefined();
    const entry = catalogue[kind!];
    expect(grpcName(entry.code)).toBe(grpcName(expectedCode(row.httpStatus, row.type)));
    expect(entry.reason).toBe(row.type.slice("errors/".length).toUpperCase());
    expect(entry.reason).toMatch(/^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/);
    // The spec's parenthesised "(status: ...)" notes explain the row; they are not part of the message.
    expect(entry.message).toBe(row.meaning.replace(/\s*\(status:[^)]*\)\s*$/, ""));
  });

  it("the service's own types are outside the contract and follow the same HTTP → gRPC mapping", () => {
    const specTypes = new Set(rows.map((r) => r.type));
    for (const kind of ["missing_api_key", "invalid_api_key", "revoked_api_key", "undecodable_request", "message_too_large", "not_found", "request_canceled"]) {
      expect(ownKinds).toContain(kind);
    }
    for (const kind of ownKinds) {
      const entry = catalogue[kind];
      expect(specTypes.has(entry.type), `${entry.type} collides with a contract type`).toBe(false);
      expect(grpcName(entry.code), kind).toBe(grpcName(expectedCode(entry.httpStatus, entry.type)));
      expect(entry.reason).toBe(entry.type.slice("errors/".length).toUpperCase());
    }
    expect(catalogue.missing_api_key.code).toBe(Code.Unauthenticated);
    expect(catalogue.message_too_large.code).toBe(Code.ResourceExhausted);
    expect(catalogue.undecodable_request.code).toBe(Code.InvalidArgument);
    // Every type names one meaning per HTTP status (request_timeout is the contract's only repeat).
    const pairs = allKinds.map((k) => `${catalogue[k].httpStatus} ${catalogue[k].type}`);
    expect(new Set(pairs).size).toBe(pairs.length);
  });

  it("the README documents every catalogue type with its HTTP status, gRPC code and retryability", () => {
    expect(existsSync(README_PATH), "README.md is missing: it must carry the error table (every errors/... type, HTTP status, gRPC code)").toBe(true);
    const tableRows = readFileSync(README_PATH, "utf8")
      .split("\n")
      .filter((l) => l.trimStart().startsWith("|"))
      .map((l) => l.split("|").map((c) => c.trim().replaceAll("`", "")));
    const problems: string[] = [];
    for (const kind of allKinds) {
      const entry = catalogue[kind];
      const row = tableRows.find((cells) => cells.includes(entry.type) && cells.includes(String(entry.httpStatus)));
      if (!row) {
        problems.push(`no row for ${entry.httpStatus} ${entry.type}`);
        continue;
      }
      if (!row.some((c) => c.toUpperCase() === grpcName(entry.code))) problems.push(`${entry.httpStatus} ${entry.type}: gRPC code ${grpcName(entry.code)} not on its row`);
      const retry = row.find((c) => c === "yes" || c === "no");
      if (retry !== undefined && retry !== (entry.retryable ? "yes" : "no")) problems.push(`${entry.httpStatus} ${entry.type}: retryable should be ${entry.retryable ? "yes" : "no"}`);
    }
    expect(problems).toEqual([]);
  });
});

describe("every catalogue entry round-trips through both transports", () => {
  let server: TestServer;
  let connector: ScriptedConnector;
  beforeAll(async () => {
    connector = scriptedConnector(["twitter"]);
    server = await startTestServer({ connectors: [connector] });
  });
  afterAll(() => server.close());

  describe.each(WIRES)("over %s", (wire) => {
    it.each(allKinds)("%s", async (kind) => {
      const entry = catalogue[kind];
      const before = connector.calls.length;
      const r = await callRpc(
        server,
        wire,
        AccountService.method.connectAccount,
        { variant: { case: "twitter", value: { username: `throw:${kind}`, email: "anna@acme.com", password: "hunter2" } } },
        { apiKey: server.apiKey },
      );
      expect(connector.calls.length, "the connector was reached").toBe(before + 1);
      expect(r.ok).toBe(false);
      if (r.ok) return;
      const e = r.error;
      expect(grpcName(e.code)).toBe(grpcName(entry.code));
      expect(e.message).toBe(entry.message);
      expect(e.errorInfoCount).toBe(1);
      expect(e.errorInfo?.reason).toBe(entry.reason);
      expect(e.errorInfo?.domain).toBe(ERROR_DOMAIN);
      expect(e.errorInfo?.metadata.type).toBe(entry.type);
      expect(e.errorInfo?.metadata.httpStatus).toBe(String(entry.httpStatus));
      expect(e.errorInfo?.metadata.requestId).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
      expect(e.badRequest).toBeUndefined();
      if (entry.retryable) {
        expect(e.retryInfo, "retryable: RetryInfo expected").toBeDefined();
        const d = e.retryInfo!.retryDelay!;
        expect(Number(d.seconds) * 1000 + d.nanos / 1e6).toBeGreaterThan(0);
      } else {
        expect(e.retryInfo, "not retryable: no RetryInfo").toBeUndefined();
      }
    });
  });
});
