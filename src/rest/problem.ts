import type { JsonObject } from "@bufbuild/protobuf";
import type { AppError } from "../errors/app-error.ts";

const PROBLEM_CONTENT_TYPE = "application/problem+json";

/** Default Retry-After for retryable errors without a provider-given delay, as the gRPC side's RetryInfo. */
const DEFAULT_RETRY_AFTER_S = 1;

export interface Problem {
  status: number;
  headers: Record<string, string>;
  body: JsonObject;
}

/**
 * An AppError as RFC 9457 problem details: `type` is the catalogue's "errors/..." string (a
 * relative URI reference, as the contract writes it), `status` its HTTP status, `title` the
 * catalogue message, `detail` the message with this occurrence's precision. The same facts
 * the gRPC side puts in ErrorInfo, BadRequest and RetryInfo, under REST names.
 */
export function problemOf(error: AppError, requestId: string): Problem {
  const entry = error.entry;
  const body: JsonObject = {
    type: entry.type,
    status: entry.httpStatus,
    title: entry.message,
    detail: error.message,
    request_id: requestId,
    retryable: entry.retryable,
  };
  if (Object.keys(error.metadata).length > 0) body.metadata = { ...error.metadata };
  // RFC 9457's own example names this member "invalid-params"; ours follows the body's snake_case.
  if (error.violations.length > 0) body.invalid_params = error.violations.map((v) => ({ name: v.field, reason: v.description }));
  const headers: Record<string, string> = { "content-type": PROBLEM_CONTENT_TYPE };
  if (entry.retryable) headers["retry-after"] = String(Math.max(1, Math.ceil((error.retryAfterMs ?? DEFAULT_RETRY_AFTER_S * 1000) / 1000)));
  return { status: entry.httpStatus, headers, body };
}
