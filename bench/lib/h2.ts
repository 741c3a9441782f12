import * as http2 from "node:http2";
import { envelope, unenvelope } from "./messages.ts";

export interface GrpcAnswer {
  httpStatus: number;
  grpcStatus: number;
  grpcMessage: string;
  /** The response message (unenveloped); empty on an error. */
  message: Buffer;
}

/**
 * One native gRPC unary call over a fresh HTTP/2 connection, with node:http2 only: no
 * client library, no reconnect back-off (a refused connection fails at once, which the
 * start-up poll relies on), raw bytes in and out.
 */
export function grpcUnary(port: number, path: string, message: Uint8Array, headers: Record<string, string> = {}, timeoutMs = 5_000): Promise<GrpcAnswer> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    const fail = (e: unknown) => {
      session.destroy();
      reject(e);
    };
    session.once("error", fail);
    session.setTimeout(timeoutMs, () => fail(new Error(`gRPC call to ${path} timed out`)));
    const stream = session.request({ ":method": "POST", ":path": path, "content-type": "application/grpc", te: "trailers", ...headers });
    let httpStatus = 0;
    let grpcStatus: number | undefined;
    let grpcMessage = "";
    const chunks: Buffer[] = [];
    const readStatus = (h: http2.IncomingHttpHeaders) => {
      if (h["grpc-status"] !== undefined) grpcStatus = Number(h["grpc-status"]);
      if (typeof h["grpc-message"] === "string") grpcMessage = decodeURIComponent(h["grpc-message"]);
    };
    stream.on("response", (h) => {
      httpStatus = Number(h[":status"]);
      readStatus(h); // trailers-only answers carry the status here
    });
    stream.on("trailers", readStatus);
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.once("error", fail);
    stream.on("end", () => {
      session.close();
      const body = Buffer.concat(chunks);
      try {
        resolve({ httpStatus, grpcStatus: grpcStatus ?? -1, grpcMessage, message: body.length > 0 ? unenvelope(body) : body });
      } catch (e) {
        reject(e);
      }
    });
    stream.end(envelope(message));
  });
}

/** grpc.health.v1.Health/Check for the whole server: true when it answers SERVING. */
export async function healthServing(port: number): Promise<boolean> {
  const answer = await grpcUnary(port, "/grpc.health.v1.Health/Check", new Uint8Array(), {}, 1_000);
  // HealthCheckResponse { status: SERVING (1) } is the two bytes 08 01.
  return answer.grpcStatus === 0 && answer.message.equals(Buffer.from([0x08, 0x01]));
}
