import type { SecureContext } from "node:tls";
import type { Logger } from "pino";
import type { Dispatcher } from "undici";
import { AppError, isAppError } from "../../errors/app-error.ts";
import type { TargetGuard } from "../../net/target-guard.ts";
import { undici } from "../../net/undici.ts";
import { proxyDispatcherFor } from "../proxy/dispatcher.ts";
import type { ProxyEndpoint } from "../proxy/tunnel.ts";
import { CookieJar } from "./cookie-jar.ts";
import { requestTimeout, transportError } from "./errors.ts";

/**
 * The one HTTP client of the web drivers. A session is one login's view of one provider:
 * its cookie jar, its user agent, and its dispatcher (straight, or through the account's
 * proxy), with every request bounded in time and size and aborted when the login is
 * canceled. Logs name the method, origin and path, never a query, header or body.
 */
export interface WebClientOptions {
  trust: SecureContext;
  requestTimeoutMs: number;
  maxResponseBytes: number;
  /** Which addresses the provider and the account's proxy may resolve to. */
  guard: TargetGuard;
}

export interface WebSessionOptions {
  /** Names the provider in errors and logs ("LinkedIn"). */
  provider: string;
  proxy?: ProxyEndpoint;
  /** The variant's user_agent, else the driver's default. */
  userAgent: string;
  /** Headers on every request (a variant's own headers, a client's fixed ones). Never logged. */
  headers?: Record<string, string>;
  cookies?: Record<string, string>;
  log: Logger;
  /** Aborts every request of the session (the login was canceled). */
  signal: AbortSignal;
}

export interface WebRequest {
  url: string;
  method?: "GET" | "POST";
  headers?: Record<string, string>;
  /** Sent as application/x-www-form-urlencoded. */
  form?: Record<string, string>;
  /** Sent as application/json. */
  json?: unknown;
}

export interface WebAnswer {
  status: number;
  headers: Headers;
  text: string;
  /** The Location header of a redirect, resolved against the request's URL. */
  location: string | undefined;
}

export class WebSession {
  readonly cookies: CookieJar;
  private readonly dispatcher: Dispatcher & { close(): Promise<void> };
  private readonly client: WebClientOptions;
  private readonly options: WebSessionOptions;

  constructor(client: WebClientOptions, options: WebSessionOptions) {
    this.client = client;
    this.options = options;
    this.cookies = new CookieJar(options.cookies);
    this.dispatcher = proxyDispatcherFor(options.proxy, { trust: client.trust, connectTimeoutMs: client.requestTimeoutMs, guard: client.guard });
  }

  /** One request with the session's cookies; redirects are answered, not followed (a login reads them). */
  async send(request: WebRequest): Promise<WebAnswer> {
    const headers: Record<string, string> = { "user-agent": this.options.userAgent, ...this.options.headers, ...request.headers };
    const cookie = this.cookies.header();
    if (cookie) headers.cookie = cookie;
    let body: string | undefined;
    if (request.form) {
      headers["content-type"] = "application/x-www-form-urlencoded";
      body = new URLSearchParams(request.form).toString();
    } else if (request.json !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(request.json);
    }
    const response = await this.fetch(request.url, { method: request.method ?? (body ? "POST" : "GET"), headers, body, redirect: "manual" });
    this.cookies.update(response.headers.getSetCookie());
    const text = await this.readBounded(response);
    const location = response.headers.get("location");
    return { status: response.status, headers: response.headers, text, location: location ? new URL(location, request.url).toString() : undefined };
  }

  /**
   * A fetch for libraries that bring their own (twitter-scraper): same dispatcher, bounds
   * and error mapping; no cookie jar (the library keeps its own) and no user agent added.
   */
  readonly fetch = async (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    const url = new URL(input instanceof Request ? input.url : input);
    const where = `${init.method ?? "GET"} ${url.origin}${url.pathname}`;
    const timeout = AbortSignal.timeout(this.client.requestTimeoutMs);
    const signals = [this.options.signal, timeout, ...(init.signal ? [init.signal] : [])];
    const started = performance.now();
    try {
      const response = (await undici().fetch(url, {
        ...(init as object),
        dispatcher: this.dispatcher,
        signal: AbortSignal.any(signals),
      })) as unknown as Response;
      this.options.log.debug({ provider: this.options.provider, request: where, status: response.status, durationMs: Math.round(performance.now() - started) }, "provider answered");
      return response;
    } catch (e) {
      const error = this.options.signal.aborted ? canceled(this.options.provider) : transportError(e, this.options.provider, timeout.aborted);
      this.options.log.debug({ provider: this.options.provider, request: where, kind: error.kind, durationMs: Math.round(performance.now() - started) }, "provider call failed");
      throw error;
    }
  };

  async close(): Promise<void> {
    await this.dispatcher.close().catch(() => undefined);
  }

  private async readBounded(response: Response): Promise<string> {
    const limit = this.client.maxResponseBytes;
    if (Number(response.headers.get("content-length") ?? 0) > limit) {
      await response.body?.cancel();
      throw tooLarge(this.options.provider, limit);
    }
    if (!response.body) return "";
    const chunks: Uint8Array[] = [];
    let size = 0;
    try {
      for await (const chunk of response.body) {
        size += chunk.byteLength;
        if (size > limit) throw tooLarge(this.options.provider, limit);
        chunks.push(chunk);
      }
    } catch (e) {
      if (isAppError(e)) throw e;
      throw this.options.signal.aborted ? canceled(this.options.provider) : requestTimeout(this.options.provider);
    }
    return Buffer.concat(chunks).toString("utf8");
  }
}

/** Parses a provider's JSON answer; undefined when it is not JSON (an HTML error page, a proxy's answer). */
export function parseJson(answer: WebAnswer): unknown {
  try {
    return JSON.parse(answer.text);
  } catch {
    return undefined;
  }
}

function canceled(provider: string): AppError {
  return new AppError("operation_canceled", { detail: `The login with ${provider} was canceled.`, metadata: { provider } });
}

function tooLarge(provider: string, limit: number): AppError {
  return new AppError("provider_error", { detail: `${provider}'s answer is larger than ${limit} bytes.`, metadata: { provider, cause: "response_too_large" } });
}
