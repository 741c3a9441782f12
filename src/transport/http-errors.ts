import type { ServerResponse } from "node:http";
import type { Http2ServerResponse } from "node:http2";
import { errorToJsonBytes } from "@connectrpc/connect/protocol-connect";
import type { AppError } from "../errors/app-error.ts";
import type { CallPipeline } from "../rpc/call.ts";

/** Longest part of a request path that goes into a log line. */
const LOGGED_PATH_MAX = 120;

/**
 * Answers a request the HTTP port cannot hand to an RPC (an unknown path, a content type no
 * protocol here speaks, a refused origin) with a Connect JSON error body and the catalogue
 * entry's HTTP status, and logs it as the RPC line of any other failed call.
 */
export function answerJsonError(pipeline: CallPipeline, path: string, header: (name: string) => string | undefined, res: ServerResponse | Http2ServerResponse, error: AppError): void {
  const call = pipeline.begin({ name: path.slice(0, LOGGED_PATH_MAX), parent: { typeName: "http" } }, "connect", header);
  const wire = pipeline.finish(call, error)!;
  res.statusCode = error.entry.httpStatus;
  res.setHeader("x-request-id", call.requestId);
  res.setHeader("content-type", "application/json");
  res.end(errorToJsonBytes(wire, {}));
}
