import { fromBinary, fromJsonString, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { AppError } from "../errors/app-error.ts";
import { libraryViolation, locateJsonProblem } from "./json-problems.ts";
import { MAX_JSON_DEPTH, MAX_MESSAGE_BYTES } from "./limits.ts";

export type WireFormat = "binary" | "json";

/**
 * Decodes a request message; a body that is not the RPC's message is the caller's
 * mistake (INVALID_ARGUMENT errors/undecodable_request), never an internal error.
 */
export function decodeRequest<Desc extends DescMessage>(schema: Desc, bytes: Uint8Array, format: WireFormat): MessageShape<Desc> {
  if (bytes.byteLength > MAX_MESSAGE_BYTES) throw tooLarge(bytes.byteLength);
  if (format === "json") return decodeJson(schema, bytes);
  try {
    return fromBinary(schema, bytes);
  } catch (cause) {
    throw undecodable("binary", "", cause);
  }
}

/**
 * JSON is parsed in steps so that each failure says what it is: not UTF-8, nested too deep
 * (checked before parsing: a 4 MiB body of brackets would otherwise cost seconds), not JSON,
 * or JSON that is not this message (a field violation names the key or value).
 */
function decodeJson<Desc extends DescMessage>(schema: Desc, bytes: Uint8Array): MessageShape<Desc> {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch (cause) {
    throw undecodable("json", "the body is not UTF-8", cause);
  }
  if (nestingDepth(text, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) throw undecodable("json", `nested deeper than ${MAX_JSON_DEPTH} levels`);
  try {
    // The same parse connect-node would run (it refuses duplicate keys, which JSON.parse keeps).
    return fromJsonString(schema, text);
  } catch (cause) {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw undecodable("json", "not valid JSON", cause);
    }
    // The library's message may quote the offending value (a password sent as a number,
    // say), so the violation comes from our own walk, which quotes only keys and enum names.
    const violation = locateJsonProblem(schema, json) ?? libraryViolation(cause);
    throw new AppError("undecodable_request", {
      detail: `(json; ${violation.field || "(request)"}: ${violation.description})`,
      metadata: { format: "json", ...(violation.field ? { field: violation.field } : {}) },
      violations: [violation],
      cause,
    });
  }
}

/**
 * How deep arrays and objects nest in `text`, counted up to just past `limit` (so a body of
 * brackets costs one pass, no recursion). Above `limit` exactly when the nesting is; REST's
 * body reader checks with it too.
 */
export function nestingDepth(text: string, limit: number): number {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // a backslash escapes the next character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return depth;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return depth;
}

function undecodable(format: WireFormat, why: string, cause?: unknown): AppError {
  return new AppError("undecodable_request", { detail: why ? `(${format}; ${why})` : `(${format})`, metadata: { format }, cause });
}

export function tooLarge(size: number): AppError {
  return new AppError("message_too_large", { metadata: { sizeBytes: String(size), limitBytes: String(MAX_MESSAGE_BYTES) } });
}
