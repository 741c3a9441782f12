import type { DescMessage, MessageInitShape } from "@bufbuild/protobuf";
import { ConnectError } from "@connectrpc/connect";
import { BadRequestSchema, ErrorInfoSchema, RetryInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { AppError } from "./app-error.ts";
import { clip, ECHO_LIMITS } from "./clip.ts";

/** ErrorInfo.domain: stable, names this service (AIP-193). */
export const ERROR_DOMAIN = "accounts.postpress.app";

/** Retry delay sent when a retryable error has no provider-given one. */
const DEFAULT_RETRY_DELAY_MS = 1000;

export interface OutgoingDetail<Desc extends DescMessage = DescMessage> {
  desc: Desc;
  value: MessageInitShape<Desc>;
}

/** Anything thrown that is not an AppError is unexpected: the cause stays on the server. */
export function asAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  return new AppError("unexpected_error", { cause: error });
}

/**
 * The one place an AppError becomes wire details: exactly one ErrorInfo, plus BadRequest
 * for validation failures and RetryInfo for retryable ones. Both transports send these.
 */
export function wireDetails(error: AppError, requestId: string): OutgoingDetail[] {
  const entry = error.entry;
  const details: OutgoingDetail[] = [
    {
      desc: ErrorInfoSchema,
      value: {
        reason: entry.reason,
        domain: ERROR_DOMAIN,
        metadata: { ...clippedMetadata(error.metadata), type: entry.type, httpStatus: String(entry.httpStatus), requestId },
      },
    },
  ];
  if (error.violations.length > 0) {
    details.push({
      desc: BadRequestSchema,
      value: {
        fieldViolations: error.violations
          .slice(0, ECHO_LIMITS.violations)
          .map((v) => ({ field: clip(v.field, ECHO_LIMITS.field), description: clip(v.description, ECHO_LIMITS.description) })),
      },
    });
  }
  if (entry.retryable) {
    const ms = error.retryAfterMs ?? DEFAULT_RETRY_DELAY_MS;
    details.push({
      desc: RetryInfoSchema,
      value: { retryDelay: { seconds: BigInt(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1_000_000 } },
    });
  }
  return details;
}

export function toConnectError(error: AppError, requestId: string): ConnectError {
  return new ConnectError(clip(error.message, ECHO_LIMITS.message), error.entry.code, undefined, wireDetails(error, requestId));
}

function clippedMetadata(metadata: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(metadata).map(([key, value]) => [key, clip(value, ECHO_LIMITS.metadataValue)]));
}
