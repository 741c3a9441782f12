import type { DescMethod } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import type * as OtelApi from "@opentelemetry/api";
import type { Context, Span, SpanContext } from "@opentelemetry/api";
import { otelApi } from "./otel-api.ts";
import { tracer } from "./spans.ts";

/** What names a call in logs, metrics and traces: an RPC's descriptor, or a REST route that maps to none. */
export type RpcRef = Pick<DescMethod, "name"> & { readonly parent: Pick<DescMethod["parent"], "typeName"> };

type Header = (name: string) => string | undefined;

/** Codes that say the server failed, not the caller (OpenTelemetry's RPC conventions). */
const SERVER_FAULTS: ReadonlySet<Code> = new Set([Code.Unknown, Code.DeadlineExceeded, Code.Unimplemented, Code.Internal, Code.Unavailable, Code.DataLoss]);

/** One RPC's span: a child of the caller's `traceparent` when it sent one. */
export interface RpcTrace {
  /** The trace the call belongs to (the caller's, or a new one when tracing is on); undefined when neither. */
  readonly traceId: string | undefined;
  /** Runs `fn` with the RPC's span active, so the store and connector spans it causes are its children. */
  inContext<T>(fn: () => T): T;
  /** The messages of a streamed answer, each produced with the RPC's span active (a generator resumes in its consumer's context). */
  inContextEach<T>(messages: AsyncIterable<T>): AsyncIterable<T>;
  end(code: Code | undefined, errorType?: string): void;
}

export function startRpcTrace(method: RpcRef, transport: string, header: Header): RpcTrace {
  const caller = callerSpanContext(header);
  const api = otelApi();
  // Tracing off: the caller's trace id, if any, for the log line; nothing to record or carry.
  if (!api) return { traceId: caller?.traceId, inContext: (fn) => fn(), inContextEach: (messages) => messages, end() {} };
  const parent = caller ? callerContext(api, caller) : api.ROOT_CONTEXT;
  const service = method.parent.typeName;
  const span: Span = tracer(api).startSpan(
    `${service}/${method.name}`,
    {
      kind: api.SpanKind.SERVER,
      attributes: { "rpc.system": transport === "grpc" ? "grpc" : "connect_rpc", "rpc.service": service, "rpc.method": method.name, "postpress.transport": transport },
    },
    parent,
  );
  const spanContext = span.spanContext();
  // A span that records nothing (sampled out) has no children to parent: no context to carry.
  const active: Context | undefined = span.isRecording() ? api.trace.setSpan(parent, span) : undefined;
  return {
    traceId: api.isSpanContextValid(spanContext) ? spanContext.traceId : undefined,
    inContext: (fn) => (active ? api.context.with(active, fn) : fn()),
    inContextEach: (messages) => (active ? inContextEach(api, active, messages) : messages),
    end(code, errorType) {
      span.setAttribute("rpc.grpc.status_code", code ?? 0);
      if (errorType !== undefined) span.setAttribute("error.type", errorType);
      if (code !== undefined && SERVER_FAULTS.has(code)) span.setStatus({ code: api.SpanStatusCode.ERROR, message: errorType });
      span.end();
    },
  };
}

function inContextEach<T>(api: typeof OtelApi, active: Context, messages: AsyncIterable<T>): AsyncIterable<T> {
  return {
    [Symbol.asyncIterator]() {
      const it = messages[Symbol.asyncIterator]();
      return {
        next: () => api.context.with(active, () => it.next()),
        return: (value?: unknown) => api.context.with(active, () => it.return?.(value) ?? Promise.resolve({ done: true as const, value: undefined })),
        throw: (error?: unknown) => api.context.with(active, () => it.throw?.(error) ?? Promise.reject(error)),
      };
    },
  };
}

/** version-traceid-parentid-flags, lowercase hex; later versions may append fields (W3C Trace Context, level 1). */
const TRACEPARENT = /^[ \t]*([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?[ \t]*$/;

type CallerSpanContext = Omit<SpanContext, "traceState"> & { traceState?: string };

function callerContext(api: typeof OtelApi, { traceState, ...ids }: CallerSpanContext): Context {
  return api.trace.setSpanContext(api.ROOT_CONTEXT, traceState === undefined ? ids : { ...ids, traceState: api.createTraceState(traceState) });
}

/** All-zero ids are invalid (W3C Trace Context): a header with one is ignored. */
const INVALID_TRACE_ID = "0".repeat(32);
const INVALID_SPAN_ID = "0".repeat(16);

/**
 * The caller's trace from its `traceparent` (and `tracestate`, kept as sent), as W3C Trace
 * Context reads it. Parsed here rather than by the global propagator, a no-op until tracing is
 * on, so a caller's trace id reaches the log line with tracing off; and rather than by
 * @opentelemetry/core's propagator, whose import alone costs the start-up as much as grpc-js's.
 */
function callerSpanContext(header: Header): CallerSpanContext | undefined {
  const m = TRACEPARENT.exec(header("traceparent") ?? "");
  // Version ff is forbidden; version 00 has exactly four fields.
  if (!m || m[1] === "ff" || (m[1] === "00" && m[5] !== undefined)) return undefined;
  const [traceId, spanId] = [m[2]!, m[3]!];
  if (traceId === INVALID_TRACE_ID || spanId === INVALID_SPAN_ID) return undefined;
  const state = header("tracestate");
  return { traceId, spanId, traceFlags: parseInt(m[4]!, 16) & 1, isRemote: true, ...(state ? { traceState: state } : {}) };
}
