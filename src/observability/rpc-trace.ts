import type { DescMethod } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { context, isSpanContextValid, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context, type Span } from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { tracer } from "./spans.ts";

/**
 * Read directly rather than through the global propagator, which is a no-op until tracing is
 * on: a caller's trace id then still reaches the per-RPC log line with tracing off.
 */
const propagator = new W3CTraceContextPropagator();
type Header = (name: string) => string | undefined;
const headerGetter = { get: (header: Header, key: string) => header(key), keys: () => [] };

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

export function startRpcTrace(method: DescMethod, transport: string, header: Header): RpcTrace {
  const parent = propagator.extract(ROOT_CONTEXT, header, headerGetter);
  const service = method.parent.typeName;
  const span: Span = tracer().startSpan(
    `${service}/${method.name}`,
    {
      kind: SpanKind.SERVER,
      attributes: { "rpc.system": transport === "grpc" ? "grpc" : "connect_rpc", "rpc.service": service, "rpc.method": method.name, "postpress.transport": transport },
    },
    parent,
  );
  const spanContext = span.spanContext();
  // A span that records nothing (tracing off) has no children to parent: no context to carry.
  const active: Context | undefined = span.isRecording() ? trace.setSpan(parent, span) : undefined;
  return {
    traceId: isSpanContextValid(spanContext) ? spanContext.traceId : undefined,
    inContext: (fn) => (active ? context.with(active, fn) : fn()),
    inContextEach: (messages) => (active ? inContextEach(active, messages) : messages),
    end(code, errorType) {
      span.setAttribute("rpc.grpc.status_code", code ?? 0);
      if (errorType !== undefined) span.setAttribute("error.type", errorType);
      if (code !== undefined && SERVER_FAULTS.has(code)) span.setStatus({ code: SpanStatusCode.ERROR, message: errorType });
      span.end();
    },
  };
}

function inContextEach<T>(active: Context, messages: AsyncIterable<T>): AsyncIterable<T> {
  return {
    [Symbol.asyncIterator]() {
      const it = messages[Symbol.asyncIterator]();
      return {
        next: () => context.with(active, () => it.next()),
        return: (value?: unknown) => context.with(active, () => it.return?.(value) ?? Promise.resolve({ done: true as const, value: undefined })),
        throw: (error?: unknown) => context.with(active, () => it.throw?.(error) ?? Promise.reject(error)),
      };
    },
  };
}
