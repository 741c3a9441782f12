import { readFileSync } from "node:fs";
import * as http from "node:http";
import { fileURLToPath } from "node:url";
import { OpenAPIBackend, type Document } from "openapi-backend";
import { expect } from "vitest";

/** What a REST call answered, as plain fetch saw it. */
export interface RestResponse {
  status: number;
  contentType: string;
  headers: Headers;
  body: Record<string, unknown>;
}

export interface RestCallOptions {
  body?: unknown;
  /** Sent as X-API-KEY. */
  apiKey?: string;
  headers?: Record<string, string>;
  /**
   * "fetch" (default) or "node-http". The fetch standard turns any 407 answer into a network
   * error, so the contract's one 407 (errors/proxy_auth_error) is read with node:http.
   */
  client?: "fetch" | "node-http";
}

/** One request over a real port with plain fetch, checked against the OpenAPI document (request and response). */
export async function rest(baseUrl: string, method: string, path: string, options: RestCallOptions = {}): Promise<RestResponse> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.apiKey) headers["x-api-key"] = options.apiKey;
  if (options.body !== undefined) headers["content-type"] ??= "application/json";
  const raw = options.body === undefined ? undefined : typeof options.body === "string" ? options.body : JSON.stringify(options.body);
  const res = options.client === "node-http" ? await nodeHttp(baseUrl + path, method, headers, raw) : await fetch(baseUrl + path, { method, headers, body: raw });
  const text = await res.text();
  return { status: res.status, contentType: res.headers.get("content-type") ?? "", headers: res.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

async function nodeHttp(url: string, method: string, headers: Record<string, string>, body: string | undefined): Promise<{ status: number; headers: Headers; text(): Promise<string> }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const h = new Headers();
        for (const [k, v] of Object.entries(res.headers)) if (typeof v === "string") h.set(k, v);
        resolve({ status: res.statusCode ?? 0, headers: h, text: async () => Buffer.concat(chunks).toString("utf8") });
      });
    });
    req.on("error", reject);
    req.end(body);
  });
}

const DOC_PATH = fileURLToPath(new URL("../../docs/openapi.json", import.meta.url));

/** The repository's OpenAPI document, as openapi-backend validates against it. */
export function openApiDocument(): Document {
  return JSON.parse(readFileSync(DOC_PATH, "utf8")) as Document;
}

let api: OpenAPIBackend | undefined;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/;

/**
 * openapi-backend validates response bodies only under `application/json`; problem details
 * live under `application/problem+json`. The validator gets a copy where each problem body is
 * also filed under application/json (the same schema), so problems are checked too; the
 * content type actually sent is checked against the original document by expectConforms.
 */
async function validator(): Promise<OpenAPIBackend> {
  if (api) return api;
  const doc = openApiDocument();
  for (const item of Object.values(doc.paths ?? {})) {
    for (const op of Object.values(item ?? {})) {
      const responses = (op as { responses?: Record<string, { content?: Record<string, unknown> }> }).responses ?? {};
      for (const r of Object.values(responses)) {
        const problem = r.content?.["application/problem+json"];
        if (problem) r.content!["application/json"] = problem;
      }
    }
  }
  // quick: openapi-backend checks the document itself with a 3.0 schema; the 3.1 check is openapi.test.ts's.
  const backend = new OpenAPIBackend({
    definition: doc,
    strict: true,
    validate: true,
    quick: true,
    customizeAjv: (ajv) => {
      ajv.addFormat("date-time", { validate: (s: string) => DATE_TIME.test(s) && !Number.isNaN(Date.parse(s)) });
      ajv.addFormat("email", /^[^\s@]+@[^\s@]+\.[^\s@]+$/);
      return ajv;
    },
  });
  await backend.init();
  return (api = backend);
}

/**
 * The request as sent and the response as received both conform to the OpenAPI document:
 * the operation exists, the request's parameters and body match its schemas, the response's
 * status is one it declares, its content type is the declared one, its body matches.
 */
export async function expectConforms(method: string, path: string, request: RestCallOptions, response: RestResponse, opts: { requestValid?: boolean } = {}): Promise<void> {
  const v = await validator();
  const url = new URL(path, "http://x");
  const req = {
    method,
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    headers: { "content-type": "application/json", "x-api-key": request.apiKey ?? "" },
    body: request.body,
  };
  const operation = v.matchOperation(req);
  expect(operation, `${method} ${path} is an operation of the document`).toBeDefined();
  if (opts.requestValid !== false) {
    const r = v.validateRequest(req, operation);
    expect(r.errors ?? [], `request ${method} ${path} conforms`).toEqual([]);
  }
  const declared = openApiDocument().paths?.[operation!.path]?.[operation!.method as "get"]?.responses ?? {};
  const spec = declared[String(response.status)] ?? declared.default;
  expect(spec, `status ${response.status} is declared`).toBeDefined();
  const types = Object.keys((spec as { content?: Record<string, unknown> }).content ?? {});
  expect(types, `content type ${response.contentType}`).toContain(response.contentType.split(";")[0]);
  const r = v.validateResponse(response.body, operation!, response.status);
  expect(r.errors ?? [], `response ${response.status} of ${method} ${path} conforms: ${JSON.stringify(response.body).slice(0, 500)}`).toEqual([]);
}

/** Calls and checks the exchange against the document in one go. */
export async function restChecked(baseUrl: string, method: string, path: string, options: RestCallOptions = {}, opts: { requestValid?: boolean } = {}): Promise<RestResponse> {
  const response = await rest(baseUrl, method, path, options);
  await expectConforms(method, path, options, response, opts);
  return response;
}

/** A problem+json answer of `type` with its contract `status`. */
export function expectProblem(r: RestResponse, status: number, type: string): void {
  expect({ status: r.status, type: r.body.type }, JSON.stringify(r.body)).toEqual({ status, type });
  expect(r.contentType).toBe("application/problem+json");
  expect(r.body.status).toBe(status);
  expect(r.body.request_id).toMatch(/^[\w.:-]+$/);
  expect(r.headers.get("x-request-id")).toBe(r.body.request_id);
}
