import type * as OtelApi from "@opentelemetry/api";
import type { Attributes, Tracer } from "@opentelemetry/api";
import { AppError } from "../errors/app-error.ts";
import { otelApi } from "./otel-api.ts";

/**
 * The tracer of everything this service does, from the API tracing.ts registered a provider
 * with. Asked for at each use, not kept: a kept one stays bound to the provider of its first
 * use, even once that provider is shut down and another registered.
 */
export function tracer(api: typeof OtelApi): Tracer {
  return api.trace.getTracer("postpress-accounts");
}

/** "ok", or what an operation failed with: its catalogue kind, "unexpected_error" for anything else. */
export function outcomeOf(error: unknown): string {
  return error instanceof AppError ? error.kind : "unexpected_error";
}

/**
 * Runs one operation the service depends on (a store query, a provider call), timing it and,
 * inside a traced call only, under a child span: work no call asked for (intent monitors,
 * health pings) would otherwise make a root trace of every poll.
 */
export async function observe<T>(name: string, attributes: Attributes, fn: () => Promise<T>, done: (outcome: string, seconds: number) => void): Promise<T> {
  const started = performance.now();
  const api = otelApi();
  const span = api?.trace.getActiveSpan()?.isRecording() ? tracer(api).startSpan(name, { kind: api.SpanKind.CLIENT, attributes }) : undefined;
  try {
    const result = await (api && span ? api.context.with(api.trace.setSpan(api.context.active(), span), fn) : fn());
    done("ok", (performance.now() - started) / 1000);
    return result;
  } catch (error) {
    const outcome = outcomeOf(error);
    done(outcome, (performance.now() - started) / 1000);
    span?.setAttribute("error.type", outcome);
    if (api) span?.setStatus({ code: api.SpanStatusCode.ERROR, message: outcome });
    throw error;
  } finally {
    span?.end();
  }
}
