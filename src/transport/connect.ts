import type { IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import type { DescService } from "@bufbuild/protobuf";
import { createConnectRouter, createContextKey, createContextValues, type HandlerContext, type Interceptor } from "@connectrpc/connect";
import { createAsyncIterable, readAllBytes, type UniversalHandler, type UniversalServerRequest } from "@connectrpc/connect/protocol";
import { universalRequestFromNodeRequest, universalResponseToNodeResponse } from "@connectrpc/connect-node";
import { AppError } from "../errors/app-error.ts";
import { callKey, type CallPipeline, type TransportName } from "../rpc/call.ts";
import { decodeRequest, tooLarge, type WireFormat } from "./decode.ts";
import { HARD_MESSAGE_CAP_BYTES, MAX_MESSAGE_BYTES } from "./limits.ts";

export interface ConnectServiceBinding {
  service: DescService;
  impl: object;
}

type NodeHandler = (req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse) => void;

/** A body that failed our decoding, carried from the guard to the request gate. */
const decodeProblemKey = createContextKey<AppError | undefined>(undefined);

/**
 * Connect (JSON and binary) and gRPC-Web through connect-node, around the same
 * ServiceImpls the gRPC transport serves. Native gRPC is left to grpc-js on its own port.
 */
export function createConnectHandler(bindings: ConnectServiceBinding[], pipeline: CallPipeline, shutdownSignal: AbortSignal): NodeHandler {
  const router = createConnectRouter({
    grpc: false,
    readMaxBytes: HARD_MESSAGE_CAP_BYTES,
    writeMaxBytes: MAX_MESSAGE_BYTES,
    shutdownSignal,
    requestGate: (ctx) => gate(pipeline, ctx),
    interceptors: [finishInterceptor(pipeline)],
  });
  for (const { service, impl } of bindings) router.service(service, impl as never);
  const paths = new Map(router.handlers.map((h) => [h.requestPath, h]));

  return (req, res) => {
    const handler = paths.get(req.url?.split("?", 2)[0] ?? "");
    if (!handler) {
      res.statusCode = 404;
      res.end();
      return;
    }
    const uReq = universalRequestFromNodeRequest(req, res, undefined, createContextValues());
    decodeGuard(handler, uReq)
      .then((uRes) => universalResponseToNodeResponse(uRes, res))
      // The response was already being written; the only failure left is the socket going away.
      .catch(() => res.destroy());
  };
}

/** Runs before the body is parsed: the call begins here (auth first, then our decode verdict). */
async function gate(pipeline: CallPipeline, ctx: HandlerContext): Promise<void> {
  const header = (name: string) => ctx.requestHeader.get(name) ?? undefined;
  const call = pipeline.begin(ctx.method, ctx.protocolName as TransportName, header);
  ctx.values.set(callKey, call);
  // Sent with the answer, error or not (connect-node merges a failed call's metadata into these).
  ctx.responseHeader.set("x-request-id", call.requestId);
  try {
    await call.trace.inContext(() => pipeline.authenticate(call, header));
    const problem = ctx.values.get(decodeProblemKey);
    if (problem) throw problem;
  } catch (error) {
    throw pipeline.finish(call, error);
  }
}

function finishInterceptor(pipeline: CallPipeline): Interceptor {
  return (next) => async (req) => {
    const call = req.contextValues.get(callKey)!;
    try {
      const res = await call.trace.inContext(() => next(req));
      if (!res.stream) {
        pipeline.finish(call);
        return res;
      }
      const messages = res.message;
      return {
        ...res,
        message: (async function* () {
          try {
            yield* call.trace.inContextEach(messages);
            pipeline.finish(call);
          } catch (error) {
            throw pipeline.finish(call, error);
          }
        })(),
      };
    } catch (error) {
      throw pipeline.finish(call, error);
    }
  };
}

interface BodyShape {
  format: WireFormat;
  enveloped: boolean;
}

function bodyShape(uReq: UniversalServerRequest): BodyShape | undefined {
  if (uReq.method !== "POST") return undefined;
  const type = uReq.header.get("content-type") ?? "";
  const m = /^application\/(?:(connect|grpc-web)\+)?(proto|json)(?:;|$)/.exec(type);
  if (!m) return undefined;
  const enveloped = m[1] !== undefined;
  const encoding = enveloped ? (uReq.header.get("grpc-encoding") ?? uReq.header.get("connect-content-encoding")) : uReq.header.get("content-encoding");
  // Compressed bodies are left to connect-node, which decompresses before parsing.
  if (encoding && encoding !== "identity") return undefined;
  return { format: m[2] === "proto" ? "binary" : "json", enveloped };
}

/**
 * connect-node answers an undecodable binary body with INTERNAL and without our details.
 * So we read and decode the body first; on failure, connect-node gets a valid empty body
 * and the request gate answers with our error, serialized in whatever protocol was spoken.
 */
async function decodeGuard(handler: UniversalHandler, uReq: UniversalServerRequest) {
  const shape = bodyShape(uReq);
  if (!shape || !uReq.body || !(Symbol.asyncIterator in Object(uReq.body))) return handler(uReq);
  let body: Uint8Array;
  let problem: AppError | undefined;
  try {
    body = await readAllBytes(uReq.body as AsyncIterable<Uint8Array>, HARD_MESSAGE_CAP_BYTES + 5, uReq.header.get("content-length"));
    decodeRequest(handler.method.input, shape.enveloped ? unenvelope(body) : body, shape.format);
  } catch (error) {
    problem = error instanceof AppError ? error : tooLarge(Number(uReq.header.get("content-length") ?? MAX_MESSAGE_BYTES + 1));
    body = emptyBody(shape);
  }
  uReq.contextValues?.set(decodeProblemKey, problem);
  return handler({ ...uReq, body: createAsyncIterable([body]) });
}

function unenvelope(body: Uint8Array): Uint8Array {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  if (body.byteLength < 5 || view.getUint8(0) !== 0 || view.getUint32(1) !== body.byteLength - 5) {
    throw new AppError("undecodable_request", { detail: "(the body is not one uncompressed enveloped message)" });
  }
  return body.subarray(5);
}

function emptyBody(shape: BodyShape): Uint8Array {
  const message = new TextEncoder().encode(shape.format === "json" ? "{}" : "");
  if (!shape.enveloped) return message;
  const out = new Uint8Array(5 + message.byteLength);
  new DataView(out.buffer).setUint32(1, message.byteLength);
  out.set(message, 5);
  return out;
}
