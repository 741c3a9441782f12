import { mkdtempSync, rmSync } from "node:fs";
import * as http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { chromium, type BrowserContext } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scriptedConnector } from "../support/test-connectors.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import type { CallReport } from "./page.ts";

/**
 * Issue 11, point 5: a page on another origin calls the HTTP port from real headless Chromium
 * (Debian's `chromium`, installed by scripts/system-deps.sh, driven by playwright-core) with
 * @connectrpc/connect-web, over Connect JSON and gRPC-Web, and reads errors through
 * findDetails. Before, every such call was blocked: the preflight answered 405 without
 * Access-Control-Allow-Origin.
 */

const CHROMIUM = "/usr/bin/chromium";
const FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

let server: TestServer;
let allowedPage: PageServer;
let otherPage: PageServer;
let context: BrowserContext;
let profile: string;

interface PageServer {
  origin: string;
  close(): Promise<void>;
}

/** Serves the page (and its bundled script) on its own port: an origin of its own. */
async function servePage(script: string, host: string): Promise<PageServer> {
  const page = http.createServer((req, res) => {
    if (req.url === "/page.js") {
      res.setHeader("content-type", "text/javascript");
      return res.end(script);
    }
    res.setHeader("content-type", "text/html");
    res.end('<!doctype html><html><head><script type="module" src="/page.js"></script></head><body>postpress accounts browser test</body></html>');
  });
  await new Promise<void>((resolve) => page.listen(0, "127.0.0.1", resolve));
  const { port } = page.address() as { port: number };
  return { origin: `http://${host}:${port}`, close: () => new Promise((resolve) => page.close(() => resolve())) };
}

beforeAll(async () => {
  const bundled = await build({ entryPoints: [fileURLToPath(new URL("./page.ts", import.meta.url))], bundle: true, format: "esm", platform: "browser", write: false, logLevel: "error" });
  const script = bundled.outputFiles[0]!.text;
  allowedPage = await servePage(script, "127.0.0.1");
  // "localhost" and "127.0.0.1" are different origins to a browser: this one is not on the list.
  otherPage = await servePage(script, "localhost");
  server = await startTestServer({ connectors: [scriptedConnector()], transport: { corsAllowedOrigins: ["https://app.example.com", allowedPage.origin] } });
  profile = mkdtempSync(join(tmpdir(), "ppa-chromium-"));
  context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: FLAGS });
}, 60_000);

afterAll(async () => {
  await context?.close();
  rmSync(profile, { recursive: true, force: true });
  await Promise.all([allowedPage?.close(), otherPage?.close(), server?.close()]);
});

type Scenario = Record<"connected" | "missing" | "invalid" | "unauthenticated", CallReport> & { fetched?: CallReport };

async function runInPage(origin: string): Promise<Record<"connectJson" | "grpcWeb", Scenario>> {
  const page = await context.newPage();
  try {
    await page.goto(`${origin}/`);
    await page.waitForFunction(() => "runCalls" in globalThis);
    return await page.evaluate(
      ([baseUrl, apiKey]) => (globalThis as unknown as { runCalls(b: string, k: string): Promise<Record<"connectJson" | "grpcWeb", Scenario>> }).runCalls(baseUrl!, apiKey!),
      [server.httpUrl, server.apiKey],
    );
  } finally {
    await page.close();
  }
}

describe("a page on an allowed origin, in headless Chromium", () => {
  it("calls ConnectAccount and GetAccount over Connect JSON and gRPC-Web, and reads ErrorInfo through findDetails", async () => {
    const results = await runInPage(allowedPage.origin);
    for (const [protocol, r] of Object.entries(results)) {
      const at = `over ${protocol}`;
      expect(r.connected.ok, `${at}: ${JSON.stringify(r.connected)}`).toBe(true);
      expect(r.connected.accountId, at).toMatch(/^acc_/);
      expect(r.fetched, at).toEqual({ ok: true, accountId: r.connected.accountId });
      expect(r.missing, at).toMatchObject({ ok: false, code: "NotFound", errorType: "errors/not_found", reason: "NOT_FOUND" });
      expect(r.invalid, at).toMatchObject({ ok: false, code: "InvalidArgument", errorType: "errors/invalid_parameters", violations: ["twitter.email"] });
      expect(r.unauthenticated, at).toMatchObject({ ok: false, code: "Unauthenticated", errorType: "errors/missing_api_key" });
    }
  }, 60_000);
});

describe("a page on an origin not on the list", () => {
  it("is refused: the browser blocks every call, and the server logs the refused preflight", async () => {
    const connectCalls = () => server.logs.filter((l) => l.includes('"method":"ConnectAccount"')).length;
    const before = connectCalls();
    const results = await runInPage(otherPage.origin);
    for (const [protocol, r] of Object.entries(results)) {
      for (const call of [r.connected, r.missing, r.invalid]) {
        // What a page sees of a CORS refusal: a failed fetch, no status and no details.
        expect(call, `over ${protocol}`).toMatchObject({ ok: false, errorType: undefined });
      }
    }
    expect(server.logs.some((l) => l.includes('"errorType":"errors/origin_not_allowed"'))).toBe(true);
    // No call from the refused page reached an RPC.
    expect(connectCalls()).toBe(before);
  }, 60_000);
});

describe("preflight answers (what the browser relies on)", () => {
  it("an allowed origin gets the methods, request headers and exposed headers; another gets 403 and no CORS header", async () => {
    const preflight = (origin: string) =>
      fetch(`${server.httpUrl}/postpress.accounts.v1.AccountService/GetAccount`, {
        method: "OPTIONS",
        headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "content-type,x-api-key,connect-protocol-version" },
      });
    const ok = await preflight("https://app.example.com");
    expect(ok.status).toBe(204);
    expect(ok.headers.get("access-control-allow-origin")).toBe("https://app.example.com");
    expect(ok.headers.get("access-control-allow-methods")).toContain("POST");
    for (const h of ["x-api-key", "authorization", "x-request-id", "connect-protocol-version", "x-grpc-web"]) expect(ok.headers.get("access-control-allow-headers")?.toLowerCase()).toContain(h);
    const refused = await preflight("https://evil.example.net");
    expect(refused.status).toBe(403);
    expect(refused.headers.get("access-control-allow-origin")).toBeNull();
    expect((JSON.parse(await refused.text()) as { code: string }).code).toBe("permission_denied");

    const actual = await fetch(`${server.httpUrl}/postpress.accounts.v1.AccountService/ListAccounts`, {
      method: "POST",
      headers: { origin: "https://app.example.com", "content-type": "application/json", "x-api-key": server.apiKey },
      body: "{}",
    });
    expect(actual.status).toBe(200);
    for (const h of ["grpc-status", "grpc-message", "grpc-status-details-bin", "x-request-id"]) expect(actual.headers.get("access-control-expose-headers")?.toLowerCase()).toContain(h);
  });

  it("the REST API under /api/v1/ has the same policy: DELETE preflights allowed, other origins refused as problem+json", async () => {
    const preflight = (origin: string) =>
      fetch(`${server.httpUrl}/api/v1/accounts/acc_01HXYZ4QK3WJ8FN3M6QH7TZ8GR`, {
        method: "OPTIONS",
        headers: { origin, "access-control-request-method": "DELETE", "access-control-request-headers": "x-api-key" },
      });
    const ok = await preflight("https://app.example.com");
    expect(ok.status).toBe(204);
    expect(ok.headers.get("access-control-allow-origin")).toBe("https://app.example.com");
    expect(ok.headers.get("access-control-allow-methods")).toContain("DELETE");
    const refused = await preflight("https://evil.example.net");
    expect(refused.status).toBe(403);
    expect(refused.headers.get("access-control-allow-origin")).toBeNull();
    expect(refused.headers.get("content-type")).toContain("application/problem+json");
    expect(((await refused.json()) as { type: string }).type).toBe("errors/origin_not_allowed");

    const listed = await fetch(`${server.httpUrl}/api/v1/accounts`, { headers: { origin: "https://app.example.com", "x-api-key": server.apiKey } });
    expect(listed.status).toBe(200);
    expect(listed.headers.get("access-control-allow-origin")).toBe("https://app.example.com");
    expect(listed.headers.get("access-control-expose-headers")?.toLowerCase()).toContain("x-request-id");
    // A refused origin reaches no route: the call is refused even with a valid key.
    const other = await fetch(`${server.httpUrl}/api/v1/accounts`, { headers: { origin: "https://evil.example.net", "x-api-key": server.apiKey } });
    expect(other.status).toBe(403);
  });

  it("with no origins configured (the default), every cross-origin request is refused", async () => {
    const plain = await startTestServer();
    try {
      const res = await fetch(`${plain.httpUrl}/postpress.accounts.v1.AccountService/ListAccounts`, { method: "OPTIONS", headers: { origin: allowedPage.origin, "access-control-request-method": "POST" } });
      expect(res.status).toBe(403);
      expect(res.headers.get("access-control-allow-origin")).toBeNull();
    } finally {
      await plain.close();
    }
  });
});
