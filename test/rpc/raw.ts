import type { DescMethodUnary } from "@bufbuild/protobuf";
import { failureFromStatus, type RpcFailure } from "../support/clients.ts";

/** Raw HTTP helpers for bodies no well-behaved client would send. */

/** A gRPC-Web length-prefixed message frame around `payload` (flags 0: uncompressed data). */
export function envelope(payload: Uint8Array, flags = 0, declaredLength = payload.byteLength): Uint8Array {
  const out = new Uint8Array(5 + payload.byteLength);
  const view = new DataView(out.buffer);
  view.setUint8(0, flags);
  view.setUint32(1, declaredLength);
  out.set(payload, 5);
  return out;
}

export interface GrpcWebAnswer {
  httpStatus: number;
  /** The grpc-status of the answer (0 = OK). */
  grpcStatus: number;
  failure: RpcFailure | undefined;
}

/** POSTs `body` as-is to a gRPC-Web endpoint (HTTP/1.1) and reads the status from headers or the trailer frame. */
export async function grpcWebRaw(httpUrl: string, method: DescMethodUnary, body: Uint8Array, headers: Record<string, string>): Promise<GrpcWebAnswer> {
  const res = await fetch(`${httpUrl}/${method.parent.typeName}/${method.name}`, {
    method: "POST",
    headers: { "content-type": "application/grpc-web+proto", "x-grpc-web": "1", ...headers },
    body,
  });
  const bytes = new Uint8Array(await res.arrayBuffer());
  const trailers = new Map<string, string>();
  res.headers.forEach((v, k) => trailers.set(k, v));
  // Walk the frames: a trailer frame (flag 0x80) carries "name: value" lines.
  for (let at = 0; at + 5 <= bytes.byteLength; ) {
    const flags = bytes[at]!;
    const length = new DataView(bytes.buffer, bytes.byteOffset + at + 1, 4).getUint32(0);
    const frame = bytes.subarray(at + 5, at + 5 + length);
    if (flags & 0x80) {
      for (const line of new TextDecoder().decode(frame).split("\r\n")) {
        const i = line.indexOf(":");
        if (i > 0) trailers.set(line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim());
      }
    }
    at += 5 + length;
  }
  const grpcStatus = Number(trailers.get("grpc-status") ?? NaN);
  if (grpcStatus === 0) return { httpStatus: res.status, grpcStatus, failure: undefined };
  const details = trailers.get("grpc-status-details-bin");
  const message = decodeURIComponent(trailers.get("grpc-message") ?? "");
  return { httpStatus: res.status, grpcStatus, failure: failureFromStatus(grpcStatus, message, details ? Buffer.from(details, "base64") : undefined) };
}

export interface HttpAnswer {
  status: number;
  contentType: string;
  text: string;
}

export async function httpPost(url: string, contentType: string, body: string | Uint8Array, headers: Record<string, string> = {}): Promise<HttpAnswer> {
  const res = await fetch(url, { method: "POST", headers: { "content-type": contentType, ...headers }, body });
  return { status: res.status, contentType: res.headers.get("content-type") ?? "", text: await res.text() };
}
