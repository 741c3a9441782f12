import * as grpc from "@grpc/grpc-js";
import { createRegistry, fromBinary } from "@bufbuild/protobuf";
import { anyUnpack } from "@bufbuild/protobuf/wkt";
import { ErrorInfoSchema, RetryInfoSchema, type ErrorInfo, type RetryInfo } from "../../../../gen/google/rpc/error_details_pb.js";
import { StatusSchema } from "../../../../gen/google/rpc/status_pb.js";
import { AppError } from "../../../errors/app-error.ts";
import { catalogue, type ErrorKind } from "../../../errors/catalogue.ts";

const registry = createRegistry(ErrorInfoSchema, RetryInfoSchema);

/**
 * Types a gateway may not hand us: they speak of the caller's own call to us (its API key,
 * its message), which a gateway knows nothing about. They become provider_error.
 */
const NOT_FROM_A_GATEWAY: ReadonlySet<ErrorKind> = new Set([
  "missing_api_key",
  "invalid_api_key",
  "revoked_api_key",
  "scope_required",
  "undecodable_request",
  "message_too_large",
  "request_canceled",
  "not_found",
  "unexpected_error",
]);

const kindsByType = new Map<string, ErrorKind[]>();
for (const kind of Object.keys(catalogue) as ErrorKind[]) {
  const list = kindsByType.get(catalogue[kind].type) ?? [];
  list.push(kind);
  kindsByType.set(catalogue[kind].type, list);
}

/** The catalogue kind of an "errors/..." type a gateway sent, or undefined if it is not ours to answer. */
export function kindOfType(type: string, httpStatus?: string): ErrorKind | undefined {
  const kinds = kindsByType.get(type);
  if (!kinds) return undefined;
  // errors/request_timeout is two rows (408 and 504): httpStatus tells them apart.
  const kind = kinds.find((k) => String(catalogue[k].httpStatus) === httpStatus) ?? kinds[0]!;
  return NOT_FROM_A_GATEWAY.has(kind) ? undefined : kind;
}

/** The gateway's ErrorInfo, and its RetryInfo as milliseconds (a provider's flood wait travels on). */
function detailsOf(error: grpc.ServiceError): { info?: ErrorInfo; retryAfterMs?: number } {
  const out: { info?: ErrorInfo; retryAfterMs?: number } = {};
  const bin = error.metadata?.get("grpc-status-details-bin")[0];
  if (!(bin instanceof Buffer)) return out;
  try {
    for (const any of fromBinary(StatusSchema, bin).details) {
      const unpacked = anyUnpack(any, registry);
      if (unpacked?.$typeName === "google.rpc.ErrorInfo") out.info = unpacked as ErrorInfo;
      if (unpacked?.$typeName === "google.rpc.RetryInfo") {
        const delay = (unpacked as RetryInfo).retryDelay;
        if (delay) out.retryAfterMs = Math.min(Number(delay.seconds) * 1000 + Math.floor(delay.nanos / 1e6), 24 * 3600_000);
      }
    }
  } catch {
    // Undecodable details: judged by the status code alone.
  }
  return out;
}

/**
 * A failed gateway call as the catalogue names it. The gateway's ErrorInfo type wins; without
 * one, the status code says what happened to the channel: UNAVAILABLE (refused, reset, not
 * listening) is no_channel, UNIMPLEMENTED (no such service or method there) is no_handler,
 * DEADLINE_EXCEEDED is the provider not answering in time. The gateway's message is never
 * passed on: it is not ours to vouch for.
 */
export function gatewayError(error: unknown, context: { gateway: string; method: string }): AppError {
  if (error instanceof AppError) return error;
  const serviceError = error as Partial<grpc.ServiceError>;
  if (typeof serviceError.code !== "number") return new AppError("provider_error", { cause: error, metadata: context });
  const { info, retryAfterMs } = detailsOf(serviceError as grpc.ServiceError);
  const type = info?.metadata.type;
  const known = type ? kindOfType(type, info?.metadata.httpStatus) : undefined;
  if (known) {
    // Safe context the gateway gave (ids, a retry hint) goes on; its message does not.
    const metadata: Record<string, string> = { ...context };
    for (const key of ["accountId", "variant", "provider", "checkpointType"]) {
      const value = info?.metadata[key];
      if (value && /^[\w.:@+-]{1,128}$/.test(value)) metadata[key] = value;
    }
    return new AppError(known, { metadata, cause: error, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) });
  }
  switch (serviceError.code) {
    case grpc.status.UNAVAILABLE:
    case grpc.status.CANCELLED:
      return new AppError("no_channel", { detail: `The ${context.gateway} gateway cannot be reached.`, metadata: context, cause: error });
    case grpc.status.UNIMPLEMENTED:
      return new AppError("no_handler", { detail: `The ${context.gateway} gateway does not serve ${context.method}.`, metadata: context, cause: error });
    case grpc.status.DEADLINE_EXCEEDED:
      return new AppError("request_timeout", { metadata: context, cause: error });
    default:
      return new AppError("provider_error", { metadata: { ...context, grpcCode: grpc.status[serviceError.code] ?? String(serviceError.code) }, cause: error });
  }
}
