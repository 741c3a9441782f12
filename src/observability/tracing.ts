import type { Logger } from "pino";
import { setOtelApi } from "./otel-api.ts";

/** The OTLP over HTTP encodings the exporter speaks (OTLP over gRPC is not offered). */
export type OtlpProtocol = "http/protobuf" | "http/json";

export interface TracingOptions {
  protocol: OtlpProtocol;
  /** Where spans go; by default the exporter reads OTEL_EXPORTER_OTLP_TRACES_ENDPOINT / OTEL_EXPORTER_OTLP_ENDPOINT itself. */
  url?: string;
  serviceVersion: string;
}

export interface Tracing {
  /** Sends the spans still buffered and stops tracing. */
  shutdown(): Promise<void>;
}

/**
 * Turns tracing on for the process: an OpenTelemetry tracer provider exporting over OTLP/HTTP
 * in batches, sampling every trace the caller did not already decide against (parent-based),
 * and an AsyncLocalStorage context so store and connector spans find the RPC span they run
 * under. The SDK is loaded only here: with tracing off (the default) it is never imported.
 * The exporter reads the other standard variables itself (OTEL_EXPORTER_OTLP_HEADERS,
 * _TIMEOUT, _COMPRESSION, ...), the resource OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES.
 */
export async function startTracing(options: TracingOptions, log: Logger): Promise<Tracing> {
  const [api, { TracerProvider, BatchSpanProcessor, ParentBasedSampler, AlwaysOnSampler }, { AsyncLocalStorageContextManager }, resources, exporters] = await Promise.all([
    import("@opentelemetry/api"),
    import("@opentelemetry/sdk-trace"),
    import("@opentelemetry/context-async-hooks"),
    import("@opentelemetry/resources"),
    options.protocol === "http/json" ? import("@opentelemetry/exporter-trace-otlp-http") : import("@opentelemetry/exporter-trace-otlp-proto"),
  ]);
  const exporter = new exporters.OTLPTraceExporter(options.url === undefined ? {} : { url: options.url });
  const resource = resources
    .resourceFromAttributes({ "service.name": "postpress-accounts", "service.version": options.serviceVersion })
    .merge(resources.detectResources({ detectors: [resources.envDetector] }));
  const provider = new TracerProvider({
    resource,
    sampler: new ParentBasedSampler({ root: new AlwaysOnSampler() }),
    spanProcessors: [new BatchSpanProcessor({ exporter })],
  });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  api.context.setGlobalContextManager(contextManager);
  api.trace.setGlobalTracerProvider(provider);
  setOtelApi(api);
  // Not the URL: the endpoint settings are secret (a collector URL may carry a token).
  log.info({ protocol: options.protocol }, "tracing on: exporting spans over OTLP");
  return {
    async shutdown() {
      await provider.shutdown().catch((err: unknown) => log.warn({ err }, "could not export the last spans"));
      setOtelApi(undefined);
      api.trace.disable();
      api.context.disable();
    },
  };
}
