import { AppError } from "../errors/app-error.ts";
import { tooLarge } from "./decode.ts";

/**
 * Reads a request body of at most `maxBytes`, chunk by chunk: memory grows with what actually
 * arrives, never with what a content-length header declares (connect-node allocates the
 * declared size up front). A declared length over the limit is refused before reading.
 * A body that ends abnormally (the client went away, or sent less than it declared) is the
 * client's doing: errors/request_canceled, not a size problem.
 */
export async function readBody(body: AsyncIterable<Uint8Array>, maxBytes: number, declaredLength: string | null): Promise<Uint8Array> {
  const declared = declaredLength === null ? undefined : Number(declaredLength);
  if (declared !== undefined && declared > maxBytes) throw tooLarge(declared);
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for await (const chunk of body) {
      total += chunk.byteLength;
      if (total > maxBytes) throw tooLarge(total);
      chunks.push(chunk);
    }
  } catch (error) {
    if (error instanceof AppError) throw error;
    throw new AppError("request_canceled", { detail: "(the request body ended abnormally)", cause: error });
  }
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}
