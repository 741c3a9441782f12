import { context, SpanKind, SpanStatusCode, trace, type Attributes } from "@opentelemetry/api";
import { AppError } from "../errors/app-error.ts";

/**
 * The tracer of everything this service does; a no-op until tracing.ts registers a provider.
 * Asked for at each use, not kept: a kept one stays bound to the provider of its first use,
 * even once that provider is shut down and another registered.
 */
export function tracer() {
  return trace.getTracer("postpress-accounts");
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
  const span = trace.getActiveSpan()?.isRecording() ? tracer().startSpan(name, { kind: SpanKind.CLIENT, attributes }) : undefined;
  try {
    const result = await (span ? context.with(trace.setSpan(context.active(), span), fn) : fn());
    done("ok", (performance.now() - started) / 1000);
    return result;
  } catch (error) {
    const outcome = outcomeOf(error);
    done(outcome, (performance.now() - started) / 1000);
    span?.setAttribute("error.type", outcome);
    span?.setStatus({ code: SpanStatusCode.ERROR, message: outcome });
    throw error;
  } finally {
    span?.end();
  }
}
