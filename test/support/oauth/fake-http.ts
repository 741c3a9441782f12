import { once } from "node:events";
import { createServer, type IncomingHttpHeaders, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";

/**
 * A small scriptable HTTP server on 127.0.0.1 for the fake providers: each route has a
 * normal behaviour, and a test can queue the next answers of a route (an error, a slow
 * or oversized answer) before it falls back to that behaviour.
 */

export interface FakeAnswer {
  status: number;
  /** Sent as JSON. */
  json?: unknown;
  /** Sent as is (with Content-Length) instead of json: HTML from a proxy, broken JSON, a huge body. */
  text?: string;
  /** Streams this many bytes with chunked encoding (no Content-Length), instead of json or text. */
  streamBytes?: number;
  headers?: Record<string, string>;
  /** Waits this long before answering. */
  delayMs?: number;
}

export interface RecordedRequest {
  route: string;
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: string;
  /** The fields of an application/x-www-form-urlencoded body; empty otherwise. */
  form: Record<string, string>;
}

export interface Route {
  method: "GET" | "POST";
  path: string;
  /** The route's normal behaviour. */
  answer(request: RecordedRequest): FakeAnswer;
}

export interface FakeHttp<R extends string> {
  /** http://127.0.0.1:<port>, without a trailing slash. */
  url: string;
  /** Every request received, oldest first. */
  requests: RecordedRequest[];
  /** Queues the next answers of `route`; once they are used up, its normal behaviour resumes. */
  script(route: R, ...answers: FakeAnswer[]): void;
  /** The requests received by `route`. */
  requestsTo(route: R): RecordedRequest[];
  /**
   * Holds the next request to `route` before it is answered: `reached` resolves once it
   * arrived, `release` lets it be answered (normally, or by the script). The test orders what
   * happens meanwhile, with no timing.
   */
  hold(route: R): { reached: Promise<void>; release(): void };
  /** Forgets the requests and the queued answers, between tests. */
  reset(): void;
  close(): Promise<void>;
}

export async function startFakeHttp<R extends string>(routes: Record<R, Route>): Promise<FakeHttp<R>> {
  const names = Object.keys(routes) as R[];
  const scripts = new Map<R, FakeAnswer[]>(names.map((name) => [name, []]));
  const requests: RecordedRequest[] = [];
  const holds = new Map<R, { reached: () => void; released: Promise<void> }[]>(names.map((name) => [name, []]));

  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? "/", "http://fake");
    const name = names.find((n) => routes[n].method === req.method && routes[n].path === url.pathname);
    const body = Buffer.concat(chunks).toString("utf8");
    const recorded: RecordedRequest = {
      route: name ?? "unknown",
      method: req.method ?? "",
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      body,
      form: req.headers["content-type"]?.startsWith("application/x-www-form-urlencoded") ? Object.fromEntries(new URLSearchParams(body)) : {},
    };
    requests.push(recorded);
    const held = name === undefined ? undefined : holds.get(name)!.shift();
    if (held) {
      held.reached();
      await held.released;
    }
    const answer = name === undefined ? { status: 404, json: { error: "no such route in the fake" } } : (scripts.get(name)!.shift() ?? routes[name].answer(recorded));
    if (answer.delayMs) {
      // Stops waiting if the client gave up (its timeout) or the server closes.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, answer.delayMs);
        res.once("close", () => {
          clearTimeout(timer);
          resolve();
        });
      });
      if (res.destroyed) return;
    }
    await send(res, answer);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    script(route, ...answers) {
      scripts.get(route)!.push(...answers);
    },
    requestsTo(route) {
      return requests.filter((r) => r.route === route);
    },
    hold(route) {
      let reached!: () => void;
      let release!: () => void;
      const arrived = new Promise<void>((resolve) => (reached = resolve));
      holds.get(route)!.push({ reached, released: new Promise<void>((resolve) => (release = resolve)) });
      return { reached: arrived, release };
    },
    reset() {
      requests.length = 0;
      for (const queue of scripts.values()) queue.length = 0;
    },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

async function send(res: ServerResponse, answer: FakeAnswer): Promise<void> {
  if (answer.streamBytes !== undefined) {
    res.writeHead(answer.status, { "content-type": "application/json; charset=UTF-8", ...answer.headers });
    // The client may hang up mid-answer (it refuses oversized ones): that ends the stream.
    await pipeline(Readable.from(filler(answer.streamBytes)), res).catch(() => {});
    return;
  }
  const isText = answer.text !== undefined;
  const body = isText ? answer.text : answer.json === undefined ? "" : JSON.stringify(answer.json);
  const contentType = isText ? "text/html; charset=UTF-8" : "application/json; charset=UTF-8";
  res.writeHead(answer.status, { "content-type": contentType, ...answer.headers });
  res.end(body);
}

function* filler(bytes: number): Generator<Buffer> {
  const chunk = Buffer.alloc(64 * 1024, "a");
  for (let sent = 0; sent < bytes; sent += chunk.length) yield chunk;
}

/** The token of an `Authorization: Bearer` header, or "". */
export function bearer(authorization: string | undefined): string {
  return authorization?.startsWith("Bearer ") ? authorization.slice("Bearer ".length) : "";
}
