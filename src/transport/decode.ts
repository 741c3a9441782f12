import { fromBinary, fromJsonString, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { AppError } from "../errors/app-error.ts";
import { MAX_MESSAGE_BYTES } from "./limits.ts";

export type WireFormat = "binary" | "json";

/**
 * Decodes a request message; a body that is not the RPC's message is the caller's
 * mistake (INVALID_ARGUMENT errors/undecodable_request), never an internal error.
 */
export function decodeRequest<Desc extends DescMessage>(schema: Desc, bytes: Uint8Array, format: WireFormat): MessageShape<Desc> {
  if (bytes.byteLength > MAX_MESSAGE_BYTES) throw tooLarge(bytes.byteLength);
  try {
    return format === "binary"
      ? fromBinary(schema, bytes)
      : fromJsonString(schema, new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (cause) {
    // The library's message may quote the offending value (a password sent as a number,
    // say), so only the field name it mentions is passed on.
    const field = cause instanceof Error ? /field ([\w.]+)/.exec(cause.message)?.[1] : undefined;
    throw new AppError("undecodable_request", {
      detail: field ? `(${format}; first bad field: ${field})` : `(${format})`,
      metadata: { format, ...(field ? { field } : {}) },
      cause,
    });
  }
}

export function tooLarge(size: number): AppError {
  return new AppError("message_too_large", { metadata: { sizeBytes: String(size), limitBytes: String(MAX_MESSAGE_BYTES) } });
}
