import type { IncomingMessage, ServerResponse } from "node:http";
import { constants as h2constants, type Http2ServerRequest, type Http2ServerResponse } from "node:http2";
import type { DescService } from "@bufbuild/protobuf";
import { createConnectRouter, createContextKey, createContextValues, type HandlerContext, type Interceptor } from "@connectrpc/connect";
import { createAsyncIterable, type UniversalHandler, type UniversalServerRequest } from "@connectrpc/connect/protocol";
import { universalRequestFromNodeRequest, universalResponseToNodeResponse } from "@connectrpc/connect-node";
import { AppError } from "../errors/app-error.ts";
import { callKey, type Call, type CallPipeline, type TransportName } from "../rpc/call.ts";
import { readBody } from "./body.ts";
import { decodeRequest, type WireFormat } from "./decode.ts";
import { answerJsonError } from "./http-errors.ts";
import { HARD_MESSAGE_CAP_BYTES, MAX_MESSAGE_BYTES } from "./limits.ts";
import { headerReader } from "./node-headers.ts";

export interface ConnectServiceBinding {
  service: DescService;
  impl: object;
}

/** `refusal`: the request is already refused (an origin CORS does not allow), answered here in Connect's JSON. */
export type NodeHandler = (req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse, refusal?: AppError) => void;

/** Why a request will not reach its RPC, carried from the body step to the request gate. */
const problemKey = createContextKey<{ error: unknown } | undefined>(undefined);

/** Compressions connect-node decompresses (its defaults), besides none. */
const ACCEPTED_ENCODINGS = new Set(["identity", "gzip", "br"]);
const ENCODING_HEADERS = ["content-encoding", "connect-content-encoding", "grpc-encoding"];

/**
 * Connect (JSON and binary) and gRPC-Web through connect-node, around the same
 * ServiceImpls the gRPC transport serves. Native gRPC is left to grpc-js on its own port.
 *
 * Everything that can be decided from the headers is decided before a body byte is read:
 * CORS (by withCors, in front of this), the path, the content type and the API key. Only then is the body read (bounded,
 * chunk by chunk) and decoded by us; connect-node gets the bytes we read, or an empty body
 * when the request is refused, and the request gate answers with our error in whatever
 * protocol was spoken.
 */
export function createConnectHandler(bindings: ConnectServiceBinding[], pipeline: CallPipeline, shutdownSignal: AbortSignal): NodeHandler {
  const router = createConnectRouter({
    grpc: false,
    readMaxBytes: HARD_MESSAGE_CAP_BYTES,
    writeMaxBytes: MAX_MESSAGE_BYTES,
    shutdownSignal,
    requestGate: gate(pipeline),
    interceptors: [finishInterceptor(pipeline)],
  });
  for (const { service, impl } of bindings) router.service(service, impl as never);
  const paths = new Map(router.handlers.map((h) => [h.requestPath, h]));

  const handle: NodeHandler = (req, res, refusal) => {
    const path = req.url?.split("?", 2)[0] ?? "";
    const header = headerReader(req);
    if (refusal) return answerJsonError(pipeline, path, header, res, refusal);
    const handler = paths.get(path);
    if (!handler) return answerJsonError(pipeline, path, header, res, new AppError("unknown_method"));
    const shape = bodyShape(req.method, header("content-type"));
    if (!shape) return answerJsonError(pipeline, handler.requestPath, header, res, new AppError("unsupported_media_type"));

    const call = pipeline.begin(handler.method, shape.transport, header);
    const uReq = universalRequestFromNodeRequest(req, res, undefined, createContextValues().set(callKey, call));
    let bodyRead = false;
    prepareBody(pipeline, call, handler, uReq, shape, () => (bodyRead = true))
      .then(({ body, problem }) => {
        uReq.contextValues?.set(problemKey, problem);
        // connect-node allocates a buffer of the declared content-length before reading; the
        // body it gets is the one we read, so the declaration has no use left. A refused
        // request's encoding headers go too: its empty body is not compressed.
        const forwarded = new Headers(uReq.header);
        forwarded.delete("content-length");
        if (problem) for (const name of ENCODING_HEADERS) forwarded.delete(name);
        return handler({ ...uReq, header: forwarded, body: createAsyncIterable([body]) });
      })
      .then((uRes) => universalResponseToNodeResponse(uRes, res))
      .then(() => {
        // An HTTP/2 client still sending a body we will not read is told to stop (RFC 9113
        // §8.1); HTTP/1.1 discards the rest itself.
        if (!bodyRead && "stream" in req && !req.stream.closed) req.stream.close(h2constants.NGHTTP2_NO_ERROR);
      })
      // The response was already being written; the only failure left is the socket going away.
      .catch(() => res.destroy());
  };
  // An HTTP/2 stream is handled once the rest of what arrived with it has been read: a stream
  // opened and reset in the same packet (rapid reset, CVE-2023-44487) then costs nothing here.
  return (req, res, refusal) => {
    if (!("stream" in req)) return handle(req, res, refusal);
    setImmediate(() => {
      if (!req.stream.destroyed && !req.stream.closed) handle(req, res, refusal);
    });
  };
}

interface BodyShape {
  format: WireFormat;
  enveloped: boolean;
  transport: TransportName;
  /** The header that names the body's compression in this protocol. */
  encodingHeader: string;
}

/** What the content type says the body is, or undefined when no protocol here speaks it. */
function bodyShape(method: string | undefined, contentType: string | undefined): BodyShape | undefined {
  if (method !== "POST") return undefined;
  const m = /^application\/(?:(connect|grpc-web)\+)?(proto|json)(?:;|$)|^application\/(grpc-web)(?:;|$)/i.exec(contentType ?? "");
  if (!m) return undefined;
  const kind = (m[1] ?? m[3])?.toLowerCase();
  const enveloped = kind !== undefined;
  return {
    format: m[2]?.toLowerCase() === "json" ? "json" : "binary",
    enveloped,
    transport: kind === "grpc-web" ? "grpc-web" : "connect",
    encodingHeader: kind === "grpc-web" ? "grpc-encoding" : kind === "connect" ? "connect-content-encoding" : "content-encoding",
  };
}

/**
 * Authenticates from the headers, then reads and decodes the body. Returns the bytes for
 * connect-node, or an empty body and the reason the request is refused. Compressed bodies
 * are read here (bounded) and decompressed and parsed by connect-node.
 */
async function prepareBody(pipeline: CallPipeline, call: Call, handler: UniversalHandler, uReq: UniversalServerRequest, shape: BodyShape, onRead: () => void): Promise<{ body: Uint8Array; problem?: { error: unknown } }> {
  const header = (name: string) => uReq.header.get(name) ?? undefined;
  try {
    await call.trace.inContext(() => pipeline.authenticate(call, header));
    const encoding = header(shape.encodingHeader)?.toLowerCase();
    if (encoding && !ACCEPTED_ENCODINGS.has(encoding)) {
      throw new AppError("unsupported_encoding", { detail: "(send identity, gzip or br)", metadata: { encoding: encoding.slice(0, 40), accepted: "identity,gzip,br" } });
    }
    if (!uReq.body || !(Symbol.asyncIterator in Object(uReq.body))) return { body: new Uint8Array(0) };
    onRead();
    const body = await readBody(uReq.body as AsyncIterable<Uint8Array>, HARD_MESSAGE_CAP_BYTES + 5, uReq.header.get("content-length"));
    if (!encoding || encoding === "identity") decodeRequest(handler.method.input, shape.enveloped ? unenvelope(body) : body, shape.format);
    return { body };
  } catch (error) {
    return { body: emptyBody(shape), problem: { error } };
  }
}

/** Runs before connect-node parses the body: the call has begun; a refused request ends here. */
function gate(pipeline: CallPipeline) {
  return (ctx: HandlerContext): void => {
    const call = ctx.values.get(callKey)!;
    // Sent with the answer, error or not (connect-node merges a failed call's metadata into these).
    ctx.responseHeader.set("x-request-id", call.requestId);
    const problem = ctx.values.get(problemKey);
    if (problem) throw pipeline.finish(call, problem.error);
  };
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

function unenvelope(body: Uint8Array): Uint8Array {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  if (body.byteLength < 5 || view.getUint8(0) !== 0 || view.getUint32(1) !== body.byteLength - 5) {
    throw new AppError("undecodable_request", { detail: "(the body is not one uncompressed enveloped message)", metadata: { format: "binary" } });
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
