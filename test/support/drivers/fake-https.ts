import { once } from "node:events";
import type { IncomingHttpHeaders } from "node:http";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import type { ServerCertificate } from "../mail/pki.ts";

/**
 * A provider's fake: one HTTPS server on 127.0.0.1 with a certificate from the test CA,
 * whose handler answers like the real service. Every request is recorded (with the
 * remote port, so a test can tell it came through a proxy).
 */
export interface FakeRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: string;
  form: Record<string, string>;
  json: unknown;
  /** Cookies sent, by name. */
  cookies: Record<string, string>;
}

export interface FakeReply {
  status?: number;
  json?: unknown;
  html?: string;
  headers?: Record<string, string>;
  setCookies?: string[];
  /** Answers after this long (a slow provider). */
  delayMs?: number;
}

export interface FakeHttps {
  /** https://127.0.0.1:<port> */
  url: string;
  requests: FakeRequest[];
  close(): Promise<void>;
}

export async function startFakeHttps(certificate: ServerCertificate, handle: (request: FakeRequest) => FakeReply | Promise<FakeReply>): Promise<FakeHttps> {
  const requests: FakeRequest[] = [];
  const server = createServer({ cert: certificate.cert, key: certificate.key }, async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString("utf8");
    const url = new URL(req.url ?? "/", "https://fake");
    const type = req.headers["content-type"] ?? "";
    const request: FakeRequest = {
      method: req.method ?? "",
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      body,
      form: type.startsWith("application/x-www-form-urlencoded") ? Object.fromEntries(new URLSearchParams(body)) : {},
      json: type.startsWith("application/json") && body ? safeJson(body) : undefined,
      cookies: Object.fromEntries(
        (req.headers.cookie ?? "")
          .split(";")
          .map((p) => p.trim())
          .filter(Boolean)
          .map((p) => [p.slice(0, p.indexOf("=")), p.slice(p.indexOf("=") + 1)]),
      ),
    };
    requests.push(request);
    let reply: FakeReply;
    try {
      reply = await handle(request);
    } catch (e) {
      reply = { status: 500, json: { fakeError: String(e) } };
    }
    if (reply.delayMs) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, reply.delayMs);
        res.once("close", () => {
          clearTimeout(timer);
          resolve();
        });
      });
      if (res.destroyed) return;
    }
    const headers: Record<string, string | string[]> = { ...reply.headers };
    if (reply.setCookies) headers["set-cookie"] = reply.setCookies;
    if (reply.html !== undefined) headers["content-type"] = "text/html; charset=utf-8";
    else if (reply.json !== undefined) headers["content-type"] = "application/json; charset=utf-8";
    res.writeHead(reply.status ?? 200, headers);
    res.end(reply.html ?? (reply.json === undefined ? "" : JSON.stringify(reply.json)));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    requests,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
