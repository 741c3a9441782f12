import type * as http2 from "node:http2";
import * as grpc from "@grpc/grpc-js";
import { create, toBinary, type DescFile, type DescMessage, type DescMethod, type DescService, type MessageInitShape } from "@bufbuild/protobuf";
import type { HandlerContext } from "@connectrpc/connect";
import { file_google_rpc_error_details } from "../../gen/google/rpc/error_details_pb.js";
import { file_health_v1_health } from "../../gen/health/v1/health_pb.js";
import type { TransportSettings } from "../config.ts";
import type { Call, CallPipeline } from "../rpc/call.ts";
import { guardHttp2Session } from "./connection-guard.ts";
import { callSignals, GrpcHandlerContext, type CallSignals } from "./grpc-context.ts";
import { decodeRequest } from "./decode.ts";
import { framingErrorInterceptor, toServiceError } from "./grpc-framing.ts";
import { HARD_MESSAGE_CAP_BYTES, MAX_MESSAGE_BYTES } from "./limits.ts";
import { addLazyReflection } from "./reflection.ts";

/** How long a keepalive ping may go unanswered before the connection is dropped. */
const KEEPALIVE_TIMEOUT_MS = 20_000;

type UnaryFn = (req: unknown, ctx: HandlerContext) => Promise<MessageInitShape<DescMessage>>;
type StreamFn = (req: unknown, ctx: HandlerContext) => AsyncIterable<MessageInitShape<DescMessage>>;

export interface GrpcServiceBinding {
  service: DescService;
  /** A connect-es ServiceImpl of `service`: the same object the Connect transport serves. */
  impl: object;
  /** Files whose services reflection lists (with their imports). */
  files: DescFile[];
}

export interface GrpcTransport {
  server: grpc.Server;
}

/** grpc.health.v1.Health, served beside the API (see observability/grpc-health.ts). */
export interface GrpcHealthService {
  addToServer(server: grpc.Server): void;
}

/**
 * Native gRPC through @grpc/grpc-js, serving connect-es ServiceImpls. Requests arrive as
 * raw bytes and are decoded here, so a bad message is INVALID_ARGUMENT with our details
 * instead of grpc-js's default INTERNAL.
 */
export function createGrpcTransport(bindings: GrpcServiceBinding[], pipeline: CallPipeline, shutdownSignal: AbortSignal, health: GrpcHealthService, settings: TransportSettings): GrpcTransport {
  const methods = new Map(bindings.flatMap(({ service }) => service.methods.map((m): [string, DescMethod] => [`/${service.typeName}/${m.name}`, m])));
  const server = new grpc.Server({
    "grpc.max_receive_message_length": HARD_MESSAGE_CAP_BYTES,
    "grpc.max_send_message_length": MAX_MESSAGE_BYTES,
    "grpc.max_concurrent_streams": settings.maxConcurrentStreams,
    "grpc.keepalive_time_ms": settings.keepaliveTimeMs,
    "grpc.keepalive_timeout_ms": KEEPALIVE_TIMEOUT_MS,
    "grpc.max_connection_age_ms": settings.maxConnectionAgeMs,
    // A connection past its age gets GOAWAY; calls in flight (a WatchAccount) get this long to end.
    "grpc.max_connection_age_grace_ms": settings.idleTimeoutMs,
    interceptors: [framingErrorInterceptor(pipeline, methods)],
  });
  guardSessions(server, settings);
  const calls = callSignals(shutdownSignal);
  for (const { service, impl } of bindings) {
    const definition: Record<string, grpc.MethodDefinition<Buffer, MessageInitShape<DescMessage>>> = {};
    const handlers: grpc.UntypedServiceImplementation = {};
    for (const method of service.methods) {
      definition[method.localName] = methodDefinition(service, method);
      const fn = (impl as Record<string, unknown>)[method.localName];
      if (typeof fn !== "function") throw new Error(`no implementation for ${service.typeName}/${method.name}`);
      const run = { service, method, pipeline, calls };
      handlers[method.localName] =
        method.methodKind === "server_streaming"
          ? serverStreamingHandler(run, fn.bind(impl) as StreamFn)
          : unaryHandler(run, fn.bind(impl) as UnaryFn);
    }
    server.addService(definition, handlers);
  }

  health.addToServer(server);
  // Reflection also describes health and the error detail messages: grpcurl decodes an
  // error's details through it (`buf curl` calls health through it, but prints gRPC error
  // details as base64 whatever reflection says).
  const described = [...bindings.flatMap((b) => b.files), file_health_v1_health, file_google_rpc_error_details];
  addLazyReflection(server, described);
  return { server };
}

function methodDefinition(service: DescService, method: DescMethod): grpc.MethodDefinition<Buffer, MessageInitShape<DescMessage>> {
  return {
    path: `/${service.typeName}/${method.name}`,
    requestStream: method.methodKind === "client_streaming" || method.methodKind === "bidi_streaming",
    responseStream: method.methodKind === "server_streaming" || method.methodKind === "bidi_streaming",
    requestSerialize: (b: Buffer) => b,
    requestDeserialize: (b: Buffer) => b,
    responseSerialize: (m) => bufferOf(toBinary(method.output, create(method.output, m))),
    responseDeserialize: (b: Buffer) => b as unknown as MessageInitShape<DescMessage>,
    originalName: method.name,
  };
}

/** The encoded bytes as grpc-js wants them, without copying them (Buffer.from(array) would copy a whole page of accounts). */
function bufferOf(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

interface MethodRun {
  service: DescService;
  method: DescMethod;
  pipeline: CallPipeline;
  calls: CallSignals;
}

/**
 * Authenticates, decodes and builds the connect-es handler context, or throws. `end` is for
 * once the call is answered: it stops what still listens to the call's signal (grpc-context.ts).
 */
async function prepare(run: MethodRun, grpcCall: grpc.ServerUnaryCall<Buffer, unknown> | grpc.ServerWritableStream<Buffer, unknown>, call: Call) {
  const header = (name: string) => metadataValue(grpcCall.metadata, name);
  await run.pipeline.authenticate(call, header);
  const request = decodeRequest(run.method.input, grpcCall.request, "binary");
  const ctx = new GrpcHandlerContext(run.service, run.method, grpcCall, run.calls, call);
  return { request, ctx, end: () => ctx.end() };
}

// Both handlers finish the call (its log line, its wire error) before ending it, so that what
// still listens to its signal sees an ended call rather than a cancelled one.

function unaryHandler(run: MethodRun, fn: UnaryFn): grpc.handleUnaryCall<Buffer, MessageInitShape<DescMessage>> {
  return (grpcCall, callback) => {
    const call = run.pipeline.begin(run.method, "grpc", (name) => metadataValue(grpcCall.metadata, name));
    grpcCall.sendMetadata(responseHeader(call));
    let end: (() => void) | undefined;
    call.trace
      .inContext(() =>
        prepare(run, grpcCall, call).then((prepared) => {
          end = prepared.end;
          return fn(prepared.request, prepared.ctx);
        }),
      )
      .then(
        (response) => {
          run.pipeline.finish(call);
          end?.();
          callback(null, response);
        },
        (error: unknown) => {
          const wire = run.pipeline.finish(call, error)!;
          end?.();
          callback(toServiceError(wire));
        },
      );
  };
}

function serverStreamingHandler(run: MethodRun, fn: StreamFn): grpc.handleServerStreamingCall<Buffer, MessageInitShape<DescMessage>> {
  return (grpcCall) => {
    const call = run.pipeline.begin(run.method, "grpc", (name) => metadataValue(grpcCall.metadata, name));
    grpcCall.sendMetadata(responseHeader(call));
    let end: (() => void) | undefined;
    call.trace.inContext(async () => {
      const prepared = await prepare(run, grpcCall, call);
      end = prepared.end;
      for await (const message of fn(prepared.request, prepared.ctx)) {
        if (!grpcCall.write(message)) await new Promise((resolve) => grpcCall.once("drain", resolve));
      }
    }).then(
      () => {
        run.pipeline.finish(call);
        end?.();
        grpcCall.end();
      },
      (error: unknown) => {
        const wire = run.pipeline.finish(call, error)!;
        end?.();
        // Emitting "error" (not destroy(), which drops the stream without a status) is how grpc-js
        // ends a server stream with a status: it becomes the trailers the client reads.
        grpcCall.emit("error", toServiceError(wire));
      },
    );
  };
}

/**
 * grpc-js keeps its HTTP/2 sessions to itself; every one it creates (for bindAsync) comes from
 * its createHttp2Server method, so that is where our connection guard (handshake, idle and
 * reset limits, as on the HTTP port) is attached to each session.
 */
function guardSessions(server: grpc.Server, settings: TransportSettings): void {
  const internals = server as unknown as { createHttp2Server(credentials: grpc.ServerCredentials): http2.Http2Server };
  const original = internals.createHttp2Server.bind(server);
  internals.createHttp2Server = (credentials) => {
    const http2Server = original(credentials);
    http2Server.on("session", (session: http2.ServerHttp2Session) => guardHttp2Session(session, settings));
    return http2Server;
  };
}

/** The headers every answer starts with, error or not: the request id the caller can quote. */
function responseHeader(call: Call): grpc.Metadata {
  const metadata = new grpc.Metadata();
  metadata.set("x-request-id", call.requestId);
  return metadata;
}

/** A key sent more than once comes back joined with ", ", as HTTP/1.1 joins it, so the pipeline sees the repetition. */
function metadataValue(metadata: grpc.Metadata, name: string): string | undefined {
  const values = metadata.get(name);
  // The usual case, a header sent once (or not at all), without building arrays per lookup.
  if (values.length <= 1) return typeof values[0] === "string" ? values[0] : undefined;
  const strings = values.filter((value) => typeof value === "string");
  return strings.length > 0 ? strings.join(", ") : undefined;
}
