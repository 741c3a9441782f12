import type * as http from "node:http";
import * as http2 from "node:http2";
import * as net from "node:net";
import { guardHttp2Session } from "./connection-guard.ts";
import type { TransportSettings } from "../config.ts";

export interface HttpServer {
  listen(port: number, host: string): Promise<number>;
  /** Stops accepting, lets in-flight requests finish for up to `graceMs`, then cuts what is left. */
  close(graceMs: number): Promise<void>;
}

// Not `import ... from "node:http"`: its ES module facade reads every export, and the
// WebSocket/CloseEvent/MessageEvent getters load Node's bundled undici (~40 ms and several MB
// at start-up) that nothing here uses.
const { createServer } = process.getBuiltinModule("node:http");

const H2_PREFACE = "PRI * HTTP/2.0";
const HTTP1_KEEP_ALIVE_MS = 5_000;

/**
 * HTTP/1.1 and cleartext HTTP/2 (h2c with prior knowledge, as gRPC-Web proxies and
 * `buf curl --http2-prior-knowledge` speak it) on one port: the first bytes of a
 * connection say which server gets it. A connection that sends nothing is closed after
 * `handshakeTimeoutMs`; see guardHttp2Session for what an HTTP/2 session may do.
 */
export function createHttpServer(handler: (req: http.IncomingMessage | http2.Http2ServerRequest, res: http.ServerResponse | http2.Http2ServerResponse) => void, settings: TransportSettings): HttpServer {
  const h1 = createServer(
    {
      // Duplicated headers are joined rather than dropped, so a second authorization header is seen (and refused).
      joinDuplicateHeaders: true,
      // A request's headers must arrive within the handshake timeout (slowloris), checked
      // often enough for that timeout to mean something (Node checks every 30 s by default).
      headersTimeout: settings.handshakeTimeoutMs,
      connectionsCheckingInterval: Math.min(1000, settings.handshakeTimeoutMs),
      // Node's own 5 s for an idle keep-alive connection, unless the idle timeout is shorter.
      keepAliveTimeout: Math.min(settings.idleTimeoutMs, HTTP1_KEEP_ALIVE_MS),
    },
    handler,
  );
  const h2 = http2.createServer({ settings: { maxConcurrentStreams: settings.maxConcurrentStreams } }, (req, res) => {
    joinRepeatedAuthorization(req);
    handler(req, res);
  });
  const sockets = new Set<net.Socket>();
  const sessions = new Set<http2.ServerHttp2Session>();
  h2.on("session", (s) => {
    sessions.add(s);
    s.once("close", () => sessions.delete(s));
    guardHttp2Session(s, settings);
  });
  // A connection's first request must be complete (HTTP/1.1 headers) or begun (an HTTP/2
  // stream, see guardHttp2Session) within the handshake timeout, however slowly it trickles
  // in. Node's own headersTimeout is kept for the requests that follow on a keep-alive
  // connection, but it did not close concurrent slow first requests in our tests.
  const handshakes = new WeakMap<net.Socket, NodeJS.Timeout>();
  h1.on("request", (req: http.IncomingMessage) => clearTimeout(handshakes.get(req.socket)));
  const server = net.createServer((socket) => {
    sockets.add(socket);
    const handshake = setTimeout(() => socket.destroy(), settings.handshakeTimeoutMs);
    handshakes.set(socket, handshake);
    socket.once("close", () => {
      sockets.delete(socket);
      clearTimeout(handshake);
    });
    socket.once("data", (first) => {
      socket.pause();
      socket.unshift(first);
      const isH2 = first.toString("latin1", 0, H2_PREFACE.length) === H2_PREFACE;
      if (isH2) clearTimeout(handshake);
      (isH2 ? h2 : h1).emit("connection", socket);
      process.nextTick(() => socket.resume());
    });
  });

  return {
    listen(port, host) {
      return new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, host, () => {
          // h1 never listens itself (it is handed sockets), and Node only tracks an HTTP/1.1
          // server's connections once it has emitted "listening": without this,
          // closeIdleConnections() is a no-op and keep-alive clients hold a drain open.
          h1.emit("listening");
          resolve((server.address() as net.AddressInfo).port);
        });
      });
    },
    async close(graceMs) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      h1.closeIdleConnections();
      // HTTP/1.1 keep-alive connections close once their current response is done.
      h1.on("request", (_req, res: http.ServerResponse) => res.setHeader("connection", "close"));
      for (const s of sessions) s.close();
      const timer = setTimeout(() => {
        for (const socket of sockets) socket.destroy();
      }, graceMs);
      const idle = setInterval(() => h1.closeIdleConnections(), 50);
      await closed;
      clearTimeout(timer);
      clearInterval(idle);
    },
  };
}

/**
 * node:http2 keeps only the first of a repeated `authorization` (to it a single-value
 * header). Joined as HTTP/1.1 joins it, the authenticator sees the repetition and refuses it.
 */
function joinRepeatedAuthorization(req: http2.Http2ServerRequest): void {
  const values: string[] = [];
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    if (req.rawHeaders[i]!.toLowerCase() === "authorization") values.push(req.rawHeaders[i + 1]!);
  }
  if (values.length > 1) req.headers.authorization = values.join(", ");
}
