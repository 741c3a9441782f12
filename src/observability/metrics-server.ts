import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import type { Metrics } from "./metrics.ts";

// From the builtin, not an ES import of node:http, whose facade loads undici (see transport/http-server.ts).
const { createServer } = process.getBuiltinModule("node:http");

const METRICS_PATH = "/metrics";

/** The admin HTTP server: GET /metrics in Prometheus' text format, nothing else. */
export interface MetricsServer {
  listen(port: number, host: string): Promise<number>;
  close(): Promise<void>;
}

/**
 * Metrics are served on a port of their own (METRICS_PORT), never on the API's ports: what
 * they reveal (methods, error rates, process internals) is for operators, and the admin port
 * is not exposed where the API is.
 */
export function createMetricsServer(metrics: Metrics, log: Logger): MetricsServer {
  const server: Server = createServer((req, res) => {
    if (req.url?.split("?", 1)[0] !== METRICS_PATH || (req.method !== "GET" && req.method !== "HEAD")) {
      res.writeHead(404, { "content-type": "text/plain" }).end("Not found: metrics are at GET /metrics\n");
      return;
    }
    metrics.registry.metrics().then(
      (text) => {
        res.writeHead(200, { "content-type": metrics.registry.contentType, "cache-control": "no-store" });
        res.end(req.method === "HEAD" ? undefined : text);
      },
      (err: unknown) => {
        log.error({ err }, "metrics scrape failed");
        res.writeHead(500, { "content-type": "text/plain" }).end("metrics scrape failed\n");
      },
    );
  });
  return {
    listen(port, host) {
      return new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
      });
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
