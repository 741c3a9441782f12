import type { IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import type { ServiceHealth } from "./health.ts";

type NodeHandler = (req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse) => void;

/** The probe paths of HTTP load balancers and orchestrators; no RPC path looks like them (those are /package.Service/Method). */
const LIVENESS_PATH = "/healthz";
const READINESS_PATH = "/readyz";

/**
 * Liveness and readiness on the HTTP port, in front of the API handler. Liveness is 200 for
 * as long as the process answers at all (draining included: a drain must not be cut short
 * by a restart); readiness is 200 only while the service is SERVING (store reachable, not
 * draining), else 503 with the reason. No API key: they say nothing about any workspace.
 */
export function withProbes(health: ServiceHealth, api: NodeHandler): NodeHandler {
  return (req, res) => {
    const path = req.url?.split("?", 1)[0];
    if (path !== LIVENESS_PATH && path !== READINESS_PATH) {
      api(req, res);
      return;
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      answer(res, 405, { status: "method_not_allowed", allow: "GET, HEAD" }, req.method === "HEAD");
      return;
    }
    if (path === LIVENESS_PATH) answer(res, 200, { status: "ok" }, req.method === "HEAD");
    else if (health.serving) answer(res, 200, { status: "SERVING" }, req.method === "HEAD");
    else answer(res, 503, { status: "NOT_SERVING", reason: health.reason }, req.method === "HEAD");
  };
}

function answer(res: ServerResponse | Http2ServerResponse, status: number, body: Record<string, unknown>, headOnly: boolean): void {
  const text = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader("content-type", "application/json");
  res.setHeader("cache-control", "no-store");
  res.setHeader("content-length", Buffer.byteLength(text));
  if (status === 405) res.setHeader("allow", "GET, HEAD");
  if (headOnly) res.end();
  else res.end(text);
}
