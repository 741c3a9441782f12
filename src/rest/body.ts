import type { IncomingMessage } from "node:http";
import type { Http2ServerRequest } from "node:http2";
import { AppError } from "../errors/app-error.ts";
import { nestingDepth, tooLarge } from "../transport/decode.ts";
import { MAX_MESSAGE_BYTES } from "../transport/limits.ts";

/** Deepest nesting a REST body may have: the contract's deepest is 3 (cookies[i].name); the rest is headroom. */
export const MAX_JSON_DEPTH = 16;

/**
 * The request body as JSON, read only after the caller is authenticated: at most 4 MiB (the
 * limit of every protocol; more answers errors/message_too_large without reading the rest),
 * `application/json`, nested at most MAX_JSON_DEPTH deep (checked before parsing, so a
 * pathological body costs one pass and no recursion). An empty body is `{}`.
 */
export async function readJsonBody(req: IncomingMessage | Http2ServerRequest): Promise<unknown> {
  const type = req.headers["content-type"] ?? "";
  const declared = Number(req.headers["content-length"] ?? 0);
  if (declared > MAX_MESSAGE_BYTES) throw tooLarge(declared);
  const bytes = await readBounded(req);
  if (bytes.byteLength === 0) return {};
  if (!/^application\/json\s*(?:;|$)/i.test(type)) throw undecodable(`(send Content-Type: application/json, not ${JSON.stringify(type.slice(0, 64))})`);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch (cause) {
    throw undecodable("(the body is not UTF-8)", cause);
  }
  if (nestingDepth(text, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) throw undecodable(`(JSON nested deeper than ${MAX_JSON_DEPTH})`);
  try {
    return JSON.parse(text) as unknown;
  } catch (cause) {
    // JSON.parse's message quotes the text around the error, which may be a secret.
    throw undecodable("(the body is not valid JSON)", cause);
  }
}

/**
 * The body, up to MAX_MESSAGE_BYTES (a chunked body declares no length). Past it, the rest is
 * drained unread rather than the stream destroyed: destroying it would cut the socket the
 * answer is written on.
 */
function readBounded(req: IncomingMessage | Http2ServerRequest): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size <= MAX_MESSAGE_BYTES) return void chunks.push(chunk);
      req.off("data", onData);
      req.resume();
      reject(tooLarge(size));
    };
    req.on("data", onData);
    req.once("end", () => resolve(Buffer.concat(chunks, size)));
    // The caller went away mid-body (after "end", the promise is settled and this is a no-op).
    req.once("close", () => reject(new AppError("request_canceled", { detail: "The body was not sent in full." })));
    req.once("error", () => reject(new AppError("request_canceled", { detail: "The body was not sent in full." })));
  });
}

function undecodable(detail: string, cause?: unknown): AppError {
  return new AppError("undecodable_request", { detail, metadata: { format: "json" }, cause });
}
