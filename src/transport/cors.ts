import type { IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import { cors as connectCors } from "@connectrpc/connect";
import { AppError } from "../errors/app-error.ts";

/** Headers a page may send: Connect's and gRPC-Web's own, plus ours (the API key, the request id, W3C trace context). */
const CORS_ALLOWED_HEADERS = [...connectCors.allowedHeaders, "x-api-key", "authorization", "x-request-id", "traceparent", "tracestate"];
/** Headers a page may read: gRPC-Web's status and details, and the request id (a header, or a Connect unary trailer). */
const CORS_EXPOSED_HEADERS = [...connectCors.exposedHeaders, "x-request-id", "trailer-x-request-id"];
/** Connect's methods, and REST's DELETE. */
const CORS_ALLOWED_METHODS = [...connectCors.allowedMethods, "DELETE"];
/** How long a browser may reuse a preflight answer. */
const PREFLIGHT_MAX_AGE_S = 7200;

export type CorsVerdict = "allowed" | "refused" | "not-cross-origin";

/**
 * CORS for the HTTP port, with connect-es's header lists. Only the configured origins (exact
 * scheme://host[:port] strings) get CORS headers; none are allowed by default. A request
 * from any other origin is refused by the caller of `check` (a browser would refuse to
 * read the answer anyway; refusing keeps pages elsewhere from even triggering a call).
 */
function createCors(allowedOrigins: readonly string[]) {
  const allowed = new Set(allowedOrigins);
  return {
    /** Sets the CORS headers of an allowed origin. `preflight`: the request is one, and has been answered. */
    check(req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse): { verdict: CorsVerdict; preflight: boolean } {
      const origin = req.headers.origin;
      const preflight = req.method === "OPTIONS" && req.headers["access-control-request-method"] !== undefined;
      if (origin === undefined) return { verdict: "not-cross-origin", preflight: false };
      if (!allowed.has(origin)) return { verdict: "refused", preflight };
      res.setHeader("access-control-allow-origin", origin);
      res.setHeader("vary", "origin");
      if (!preflight) {
        res.setHeader("access-control-expose-headers", CORS_EXPOSED_HEADERS.join(", "));
        return { verdict: "allowed", preflight };
      }
      res.setHeader("access-control-allow-methods", CORS_ALLOWED_METHODS.join(", "));
      res.setHeader("access-control-allow-headers", CORS_ALLOWED_HEADERS.join(", "));
      res.setHeader("access-control-max-age", String(PREFLIGHT_MAX_AGE_S));
      res.statusCode = 204;
      res.end();
      return { verdict: "allowed", preflight };
    },
  };
}

type NodeRequest = IncomingMessage | Http2ServerRequest;
type NodeResponse = ServerResponse | Http2ServerResponse;

/**
 * CORS in front of everything the HTTP port routes (Connect, gRPC-Web and REST alike):
 * preflights are answered here; a request from an origin not allowed reaches `handler` with
 * its refusal, which the protocol spoken answers in its own error format.
 */
export function withCors(allowedOrigins: readonly string[], handler: (req: NodeRequest, res: NodeResponse, refusal?: AppError) => void): (req: NodeRequest, res: NodeResponse) => void {
  const cors = createCors(allowedOrigins);
  return (req, res) => {
    const { verdict, preflight } = cors.check(req, res);
    if (verdict === "refused") return handler(req, res, new AppError("origin_not_allowed", { metadata: { origin: String(req.headers.origin).slice(0, 100) } }));
    if (!preflight) handler(req, res);
  };
}
