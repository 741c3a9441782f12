import * as grpc from "@grpc/grpc-js";
import { create, createRegistry, fromBinary, fromJson, toBinary, toJson, type DescMessage, type DescMethodUnary, type MessageInitShape, type MessageShape } from "@bufbuild/protobuf";
import { anyUnpack, type Any } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { codeFromString } from "@connectrpc/connect/protocol-connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { BadRequestSchema, ErrorInfoSchema, RetryInfoSchema, type BadRequest, type ErrorInfo, type RetryInfo } from "../../gen/google/rpc/error_details_pb.js";
import { StatusSchema } from "../../gen/google/rpc/status_pb.js";

/** The ways a caller can reach the service: native gRPC (grpc-js), Connect binary and gRPC-Web (connect-node), Connect JSON (plain HTTP). */
export type Wire = "grpc" | "connect-binary" | "grpc-web" | "connect-json";
export const WIRES: readonly Wire[] = ["grpc", "connect-binary", "grpc-web", "connect-json"];

export interface Endpoint {
  grpcAddress: string;
  httpUrl: string;
}

export interface RpcFailure {
  code: Code;
  message: string;
  errorInfo: ErrorInfo | undefined;
  /** How many ErrorInfo details came (must be exactly one). */
  errorInfoCount: number;
  badRequest: BadRequest | undefined;
  retryInfo: RetryInfo | undefined;
}

export type RpcResult<O> = { ok: true; response: O } | { ok: false; error: RpcFailure };

export interface CallOptions {
  apiKey?: string;
  timeoutMs?: number;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

const detailRegistry = createRegistry(ErrorInfoSchema, BadRequestSchema, RetryInfoSchema);

export async function callRpc<I extends DescMessage, O extends DescMessage>(
  endpoint: Endpoint,
  wire: Wire,
  method: DescMethodUnary<I, O>,
  request: MessageInitShape<I>,
  options: CallOptions = {},
): Promise<RpcResult<MessageShape<O>>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.apiKey) headers["x-api-key"] = options.apiKey;
  switch (wire) {
    case "grpc":
      return grpcUnary(endpoint.grpcAddress, method, toBinary(method.input, create(method.input, request)), headers, options);
    case "connect-json":
      return connectJson(endpoint.httpUrl, method, JSON.stringify(toJson(method.input, create(method.input, request))), headers, options);
    default: {
      const transport = wire === "grpc-web" ? createGrpcWebTransport({ baseUrl: endpoint.httpUrl, httpVersion: "2" }) : createConnectTransport({ baseUrl: endpoint.httpUrl, httpVersion: "1.1", useBinaryFormat: true });
      return connectClientCall(transport, method, request, headers, options);
    }
  }
}

async function connectClientCall<I extends DescMessage, O extends DescMessage>(transport: Transport, method: DescMethodUnary<I, O>, request: MessageInitShape<I>, headers: Record<string, string>, options: CallOptions): Promise<RpcResult<MessageShape<O>>> {
  try {
    const response = await transport.unary(method, options.signal, options.timeoutMs, headers, request);
    return { ok: true, response: response.message };
  } catch (e) {
    return { ok: false, error: failureFromConnectError(e) };
  }
}

/** gRPC with @grpc/grpc-js; the request is passed as bytes so tests can also send garbage. */
export function grpcUnary<O extends DescMessage>(address: string, method: DescMethodUnary<DescMessage, O>, body: Uint8Array, headers: Record<string, string>, options: CallOptions = {}): Promise<RpcResult<MessageShape<O>>> {
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  const metadata = new grpc.Metadata();
  for (const [k, v] of Object.entries(headers)) metadata.set(k, v);
  const callOptions: grpc.CallOptions = options.timeoutMs ? { deadline: Date.now() + options.timeoutMs } : {};
  return new Promise((resolve) => {
    const call = client.makeUnaryRequest(
      `/${method.parent.typeName}/${method.name}`,
      (b: Uint8Array) => Buffer.from(b),
      (b: Buffer) => fromBinary(method.output, b),
      body,
      metadata,
      callOptions,
      (err, response) => {
        client.close();
        if (!err) return resolve({ ok: true, response: response! });
        resolve({ ok: false, error: failureFromStatus(err.code as number, err.details, err.metadata.get("grpc-status-details-bin")[0]) });
      },
    );
    options.signal?.addEventListener("abort", () => call.cancel(), { once: true });
  });
}

/** A gRPC failure, from its status and its grpc-status-details-bin trailer (a google.rpc.Status). */
export function failureFromStatus(code: number, message: string, detailsBin: grpc.MetadataValue | Uint8Array | undefined): RpcFailure {
  const details = detailsBin instanceof Uint8Array ? fromBinary(StatusSchema, detailsBin).details : [];
  return failureFromAnys(code, message, details);
}

/** A failure as connect-node's clients raise it. */
export function failureFromConnectError(e: unknown): RpcFailure {
  const err = ConnectError.from(e);
  const infos = err.findDetails(ErrorInfoSchema);
  return { code: err.code, message: err.rawMessage, errorInfo: infos[0], errorInfoCount: infos.length, badRequest: err.findDetails(BadRequestSchema)[0], retryInfo: err.findDetails(RetryInfoSchema)[0] };
}

function failureFromAnys(code: number, message: string, details: Any[]): RpcFailure {
  const unpacked = details.map((d) => anyUnpack(d, detailRegistry));
  const infos = unpacked.filter((m) => m?.$typeName === "google.rpc.ErrorInfo") as ErrorInfo[];
  return {
    code: code as Code,
    message,
    errorInfo: infos[0],
    errorInfoCount: infos.length,
    badRequest: unpacked.find((m) => m?.$typeName === "google.rpc.BadRequest") as BadRequest | undefined,
    retryInfo: unpacked.find((m) => m?.$typeName === "google.rpc.RetryInfo") as RetryInfo | undefined,
  };
}

/** Connect JSON over plain HTTP/1.1, as curl or a browser would send it. */
export async function connectJson<O extends DescMessage>(httpUrl: string, method: DescMethodUnary<DescMessage, O>, body: string | Uint8Array, headers: Record<string, string>, options: CallOptions = {}, contentType = "application/json"): Promise<RpcResult<MessageShape<O>>> {
  const res = await fetch(`${httpUrl}/${method.parent.typeName}/${method.name}`, {
    method: "POST",
    headers: { "content-type": contentType, ...(options.timeoutMs ? { "connect-timeout-ms": String(options.timeoutMs) } : {}), ...headers },
    body,
    signal: options.signal,
  });
  const text = await res.text();
  const json = JSON.parse(text) as Record<string, unknown>;
  if (res.status === 200) return { ok: true, response: fromJson(method.output, json as never) };
  const details = ((json.details ?? []) as { type: string; value: string }[]).map((d) => ({
    $typeName: "google.protobuf.Any" as const,
    typeUrl: `type.googleapis.com/${d.type}`,
    value: Buffer.from(d.value, "base64"),
  }));
  return { ok: false, error: failureFromAnys(codeFromString(String(json.code)) ?? Code.Unknown, String(json.message ?? ""), details) };
}

export function unaryClient<S extends Parameters<typeof createClient>[0]>(service: S, endpoint: Endpoint, wire: Exclude<Wire, "grpc" | "connect-json">) {
  const transport = wire === "grpc-web" ? createGrpcWebTransport({ baseUrl: endpoint.httpUrl, httpVersion: "2" }) : createConnectTransport({ baseUrl: endpoint.httpUrl, httpVersion: "1.1", useBinaryFormat: true });
  return createClient(service, transport);
}
