import type { Logger } from "pino";
import { AppError, isAppError } from "../../../errors/app-error.ts";
import type { ErrorKind } from "../../../errors/catalogue.ts";
import { guardedFetch } from "../../../net/guarded-agent.ts";
import { createTargetGuard, type TargetGuard } from "../../../net/target-guard.ts";
import { field } from "./json.ts";
import { innerBudgetMs } from "../../deadline.ts";

/**
 * The one HTTP client of the OAuth connectors (Google, Microsoft). It bounds every call
 * by the request's deadline and the caller's cancellation, refuses oversized answers,
 * parses JSON, and turns transport failures into catalogue errors. Tokens travel only in
 * the Authorization header or the form body, which are never logged nor put in an error.
 */

export type ProviderName = "google" | "microsoft";

const providerLabels: Record<ProviderName, string> = { google: "Google", microsoft: "Microsoft" };

/**
 * What a provider's HTTP status means when no provider-specific rule said otherwise:
 * the exact status first, then its class; anything else (1xx, 3xx) is provider_error.
 * 401 only lands here once a refresh was tried (see refresh.ts).
 */
const statusKinds: Partial<Record<string, ErrorKind>> = {
  "401": "invalid_credentials",
  "403": "insufficient_permissions",
  "408": "request_timeout",
  "429": "provider_error", // the provider throttles us: retryable, with retryAfterMs from Retry-After
  "4xx": "malformed_request", // "The given request has been rejected by the provider."
  "5xx": "provider_error", // retryable, with retryAfterMs when Retry-After was sent
};

export function kindForStatus(status: number): ErrorKind {
  return statusKinds[String(status)] ?? statusKinds[`${Math.floor(status / 100)}xx`] ?? "provider_error";
}

export interface ProviderRequest {
  provider: ProviderName;
  url: string;
  /** Sent as `Authorization: Bearer`. */
  accessToken?: string;
  /** Sent as an application/x-www-form-urlencoded POST; without it the call is a GET. */
  form?: Record<string, string>;
  signal: AbortSignal;
  deadline: Date;
  log: Logger;
}

export interface ProviderAnswer {
  provider: ProviderName;
  status: number;
  /** The parsed JSON; undefined when an error answer was empty or not JSON. */
  body: unknown;
  retryAfterMs: number | undefined;
}

export interface HttpClientOptions {
  requestTimeoutMs: number;
  maxResponseBytes: number;
}

export interface HttpClient {
  /** Any status is answered; only transport failures and unreadable answers throw. */
  request(request: ProviderRequest): Promise<ProviderAnswer>;
}

/** Connect-phase failures: the provider could not be reached at all. */
const unreachableCodes = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "UND_ERR_CONNECT_TIMEOUT"]);

/**
 * `guard` checks every address the client dials (default: refuse internal networks). The
 * base URLs are the operator's, so a refused one is a server fault, not the caller's.
 */
export function createHttpClient(options: HttpClientOptions, guard: TargetGuard = createTargetGuard()): HttpClient {
  const http = guardedFetch(guard, "provider_url");
  return {
    async request(request) {
      const { provider, log } = request;
      // Logged without the query string, and never with headers or body.
      const target = new URL(request.url);
      const where = `${target.origin}${target.pathname}`;
      // The service's one deadline policy: our request_timeout reaches the caller before they give up.
      const budgetMs = Math.min(options.requestTimeoutMs, innerBudgetMs(request.deadline));
      if (budgetMs <= 0) throw timedOut(provider);

      const timeout = AbortSignal.timeout(budgetMs);
      const started = performance.now();
      const elapsed = () => Math.round(performance.now() - started);
      try {
        const response = await http.fetch(request.url, {
          method: request.form ? "POST" : "GET",
          headers: {
            accept: "application/json",
            ...(request.accessToken ? { authorization: `Bearer ${request.accessToken}` } : {}),
          },
          body: request.form ? new URLSearchParams(request.form) : undefined,
          signal: AbortSignal.any([request.signal, timeout]),
          // Identity endpoints never redirect; following one would send the token elsewhere.
          redirect: "manual",
        });
        const text = await readBounded(response, options.maxResponseBytes, provider);
        const answer: ProviderAnswer = {
          provider,
          status: response.status,
          body: parseJson(text, response.ok, provider),
          retryAfterMs: parseRetryAfter(response.headers.get("retry-after")),
        };
        log.debug({ provider, url: where, status: answer.status, durationMs: elapsed() }, "provider answered");
        return answer;
      } catch (e) {
        const error = isAppError(e) ? e : transportError(e, request, timeout);
        log.debug({ provider, url: where, kind: error.kind, durationMs: elapsed() }, "provider call failed");
        throw error;
      }
    },
  };
}

/** The error for a provider's non-2xx answer: `kind` when a provider rule chose one, else the status table. */
export function providerFailure(answer: ProviderAnswer, kind: ErrorKind = kindForStatus(answer.status)): AppError {
  const reason = providerReason(answer.body);
  return new AppError(kind, {
    detail: `${providerLabels[answer.provider]} answered HTTP ${answer.status}${reason ? ` (${reason})` : ""}.`,
    metadata: { provider: answer.provider, status: String(answer.status), ...(reason ? { providerReason: reason } : {}) },
    retryAfterMs: answer.retryAfterMs,
  });
}

/** A 2xx answer that lacks what the provider documents. */
export function unexpectedAnswer(provider: ProviderName, what: string): AppError {
  return new AppError("provider_error", {
    detail: `${providerLabels[provider]}'s answer ${what}.`,
    metadata: { provider, cause: "unexpected_response" },
  });
}

/** Retry-After is either delay-seconds or an HTTP date, which starts with a day name (RFC 9110 §10.2.3, §5.6.7). */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  const text = value?.trim();
  if (!text) return undefined;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = /^[A-Za-z]/.test(text) ? Date.parse(text) : Number.NaN;
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * The provider's own name for an error: the OAuth `error` code (RFC 6749 §5.2), Google's
 * `error.status` or Graph's `error.code`. Only a short identifier is kept, as it goes
 * into metadata.
 */
function providerReason(body: unknown): string | undefined {
  const error = field(body, "error");
  const reason = typeof error === "string" ? error : (field(error, "status") ?? field(error, "code"));
  return typeof reason === "string" && /^[\w.-]{1,64}$/.test(reason) ? reason : undefined;
}

/** Stops reading past `limit` bytes: a provider answer must not fill our memory. */
async function readBounded(response: Response, limit: number, provider: ProviderName): Promise<string> {
  const declared = Number(response.headers.get("content-length") ?? 0);
  if (declared > limit) {
    await response.body?.cancel();
    throw tooLarge(provider, limit);
  }
  if (!response.body) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  // Throwing out of the loop cancels the stream, which closes the connection.
  for await (const chunk of response.body) {
    size += chunk.byteLength;
    if (size > limit) throw tooLarge(provider, limit);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function parseJson(text: string, ok: boolean, provider: ProviderName): unknown {
  try {
    return JSON.parse(text);
  } catch {
    // An error answer may come from a proxy as HTML: its status still says what happened.
    if (!ok) return undefined;
    // No cause attached: a SyntaxError quotes the text, and a token answer holds tokens.
    throw new AppError("provider_error", {
      detail: `${providerLabels[provider]} answered with something that is not JSON.`,
      metadata: { provider, cause: "unparseable_response" },
    });
  }
}

function transportError(e: unknown, request: ProviderRequest, timeout: AbortSignal): AppError {
  const { provider } = request;
  if (timeout.aborted) return timedOut(provider);
  if (request.signal.aborted) {
    const reason: unknown = request.signal.reason;
    // The server aborts with the error it answers (request_timeout or request_canceled).
    if (isAppError(reason)) return reason;
    // Otherwise: the caller's signal also aborts at its deadline, and that is a timeout.
    const deadlinePassed = Date.now() >= request.deadline.getTime() || (reason instanceof DOMException && reason.name === "TimeoutError");
    return deadlinePassed ? timedOut(provider) : new AppError("request_canceled", { metadata: { provider } });
  }
  const refused = causes(e).find((cause) => isAppError(cause) && cause.kind === "target_not_allowed");
  // The operator's base URL points inside the network: the cause says so in the server's log.
  if (refused) return new AppError("unexpected_error", { metadata: { provider }, cause: refused });
  const code = errorCode(e);
  const unreachable = code !== undefined && unreachableCodes.has(code);
  // undici's errors name the address and the system call, never a header or the body.
  return new AppError("provider_error", {
    detail: unreachable ? `${providerLabels[provider]} could not be reached.` : `The connection to ${providerLabels[provider]} failed.`,
    metadata: { provider, cause: unreachable ? "unreachable" : "connection_failed" },
    cause: e,
  });
}

function timedOut(provider: ProviderName): AppError {
  return new AppError("request_timeout", {
    detail: `${providerLabels[provider]} did not answer in time.`,
    metadata: { provider },
  });
}

function tooLarge(provider: ProviderName, limit: number): AppError {
  return new AppError("provider_error", {
    detail: `${providerLabels[provider]}'s answer is larger than ${limit} bytes.`,
    metadata: { provider, cause: "response_too_large" },
  });
}

/** The system error code (ECONNREFUSED, ...): fetch wraps it as TypeError("fetch failed", { cause }). */
function errorCode(e: unknown): string | undefined {
  for (const at of causes(e)) {
    const code = field(at, "code");
    if (typeof code === "string") return code;
  }
  return undefined;
}

/** The error and its causes, outermost first, at most five deep. */
function causes(e: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let at = e; at !== undefined && chain.length < 5; at = field(at, "cause")) chain.push(at);
  return chain;
}
