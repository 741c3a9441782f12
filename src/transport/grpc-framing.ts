import * as grpc from "@grpc/grpc-js";
import { create, toBinary } from "@bufbuild/protobuf";
import { anyPack } from "@bufbuild/protobuf/wkt";
import type { ConnectError } from "@connectrpc/connect";
import { StatusSchema } from "../../gen/google/rpc/status_pb.js";
import { AppError } from "../errors/app-error.ts";
import type { RpcRef } from "../observability/rpc-trace.ts";
import type { CallPipeline } from "../rpc/call.ts";
import { MAX_MESSAGE_BYTES } from "./limits.ts";

const DETAILS_KEY = "grpc-status-details-bin";

/**
 * grpc-js answers a request it cannot frame itself, before any handler runs: no message, two
 * messages, an unknown or broken compression, a message over its hard cap. It sends those as
 * UNIMPLEMENTED, INTERNAL or RESOURCE_EXHAUSTED with no details, which reads as a server fault.
 * This interceptor turns them into the catalogue's client errors, with the same details, log
 * line and request id as any other failed call. `methods` are the paths our services serve.
 */
export function framingErrorInterceptor(pipeline: CallPipeline, methods: ReadonlyMap<string, RpcRef>): grpc.ServerInterceptor {
  return (descriptor, call) => {
    const method = methods.get(descriptor.path);
    if (!method) return new grpc.ServerInterceptingCall(call);
    let metadata: grpc.Metadata | undefined;
    const header = (name: string) => {
      const value = metadata?.get(name)[0];
      return typeof value === "string" ? value : undefined;
    };
    const answer = (problem: AppError) => {
      const error = toServiceError(pipeline.finish(pipeline.begin(method, "grpc", header), problem)!);
      return { code: error.code, details: error.details, metadata: error.metadata };
    };
    // Some of these statuses (an unknown encoding, a message that cannot be decompressed)
    // are sent by grpc-js's own call object, past any interceptor's responder: so its
    // sendStatus is where they are translated.
    // A stream the client resets reads to grpc-js as one that ended without a message: the
    // translation waits a turn of the event loop, and a call cancelled by then is not a
    // mistake to answer or log (rapid reset would otherwise log every stream).
    let cancelled = false;
    const send = call.sendStatus.bind(call);
    call.sendStatus = (status) => {
      const problem = status.metadata?.get(DETAILS_KEY).length ? undefined : framingProblem(status);
      if (!problem) return send(status);
      setImmediate(() => send(cancelled ? status : answer(problem)));
    };
    return new grpc.ServerInterceptingCall(call, {
      start(next) {
        next({
          onReceiveMetadata(received, nextMetadata) {
            metadata = received;
            nextMetadata(received);
          },
          onCancel() {
            cancelled = true;
          },
        });
      },
    });
  };
}

/** The encodings grpc-js decompresses. */
const ACCEPTED_ENCODINGS = new Set(["identity", "gzip", "deflate"]);

function unsupportedEncoding(encoding: string): AppError {
  return new AppError("unsupported_encoding", { detail: "(send identity, gzip or deflate)", metadata: { encoding: encoding.slice(0, 40), accepted: [...ACCEPTED_ENCODINGS].join(",") } });
}

/** The catalogue error for one of grpc-js's own framing statuses, or undefined for anything else. */
function framingProblem(status: { code?: grpc.status; details?: string }): AppError | undefined {
  const details = status.details ?? "";
  if (status.code === grpc.status.UNIMPLEMENTED && /request message/i.test(details)) {
    return new AppError("undecodable_request", { detail: "(the request is not exactly one gRPC message)", metadata: { format: "binary" } });
  }
  if (status.code === grpc.status.UNIMPLEMENTED && /encoding "([^"]*)"/i.test(details)) {
    return unsupportedEncoding(/encoding "([^"]*)"/i.exec(details)![1]!);
  }
  if (status.code === grpc.status.INTERNAL && /decompress|deserializ/i.test(details)) {
    return new AppError("undecodable_request", { detail: "(the message could not be decompressed)", metadata: { format: "binary" } });
  }
  if (status.code === grpc.status.RESOURCE_EXHAUSTED && /larger than/i.test(details)) {
    return new AppError("message_too_large", { metadata: { limitBytes: String(MAX_MESSAGE_BYTES) } });
  }
  if (status.code === grpc.status.INTERNAL && /grpc-timeout/i.test(details)) {
    return new AppError("invalid_request", { detail: "(the grpc-timeout header is not a valid timeout)" });
  }
  return undefined;
}

/** The same details the Connect transport sends, as grpc-status-details-bin (a google.rpc.Status). */
export function toServiceError(error: ConnectError): grpc.StatusObject & Error {
  const details = error.details.flatMap((d) => ("desc" in d ? [anyPack(d.desc, create(d.desc, d.value))] : []));
  const status = create(StatusSchema, { code: error.code, message: error.rawMessage, details });
  const metadata = new grpc.Metadata();
  metadata.set(DETAILS_KEY, Buffer.from(toBinary(StatusSchema, status)));
  return Object.assign(new Error(error.rawMessage), { code: error.code as number, details: error.rawMessage, metadata });
}
