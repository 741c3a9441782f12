import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.ts";
import { tracingExport } from "../../src/config/tracing.ts";

describe("observability settings", () => {
  it("METRICS_PORT: off unless set; a port number (0: any free port)", () => {
    expect(loadConfig({}).listen.metricsPort).toBeUndefined();
    expect(loadConfig({ METRICS_PORT: "" }).listen.metricsPort).toBeUndefined();
    expect(loadConfig({ METRICS_PORT: "9464" }).listen.metricsPort).toBe(9464);
    expect(loadConfig({ METRICS_PORT: "0" }).listen.metricsPort).toBe(0);
    for (const bad of ["-1", "65536", "metrics"]) expect(() => loadConfig({ METRICS_PORT: bad })).toThrow(/METRICS_PORT must be a port number/);
    expect(() => loadConfig({ METRICS_PORT: "8080" })).toThrow(/METRICS_PORT 8080 is already GRPC_PORT or HTTP_PORT/);
  });

  it("HEALTH_CHECK_INTERVAL_MS: 5 s by default, a positive whole number of ms", () => {
    expect(loadConfig({}).health.checkIntervalMs).toBe(5_000);
    expect(loadConfig({ HEALTH_CHECK_INTERVAL_MS: "1000" }).health.checkIntervalMs).toBe(1_000);
    for (const bad of ["0", "-5", "fast"]) expect(() => loadConfig({ HEALTH_CHECK_INTERVAL_MS: bad })).toThrow(/HEALTH_CHECK_INTERVAL_MS must be a positive whole number/);
  });

  it("tracing: off by default, on with OTEL_TRACES_EXPORTER=otlp or an OTLP endpoint, off again when disabled", () => {
    expect(tracingExport(loadConfig({}).tracing)).toBeUndefined();
    expect(tracingExport(loadConfig({ OTEL_SERVICE_NAME: "x" }).tracing)).toBeUndefined();
    expect(tracingExport(loadConfig({ OTEL_TRACES_EXPORTER: "otlp" }).tracing)).toEqual({ protocol: "http/protobuf" });
    expect(tracingExport(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318" }).tracing)).toEqual({ protocol: "http/protobuf" });
    expect(tracingExport(loadConfig({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://collector:4318/v1/traces", OTEL_EXPORTER_OTLP_PROTOCOL: "http/json" }).tracing)).toEqual({ protocol: "http/json" });
    expect(tracingExport(loadConfig({ OTEL_TRACES_EXPORTER: "otlp", OTEL_EXPORTER_OTLP_PROTOCOL: "http/json", OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "http/protobuf" }).tracing)).toEqual({ protocol: "http/protobuf" });
    expect(tracingExport(loadConfig({ OTEL_TRACES_EXPORTER: "otlp", OTEL_SDK_DISABLED: "true" }).tracing)).toBeUndefined();
    expect(tracingExport(loadConfig({ OTEL_TRACES_EXPORTER: "none", OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318" }).tracing)).toBeUndefined();
  });

  it("tracing: refuses what it cannot do, naming the variable", () => {
    expect(() => loadConfig({ OTEL_TRACES_EXPORTER: "zipkin" })).toThrow(/OTEL_TRACES_EXPORTER must be otlp or none/);
    expect(() => loadConfig({ OTEL_TRACES_EXPORTER: "otlp", OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" })).toThrow(/OTEL_EXPORTER_OTLP_PROTOCOL must be http\/protobuf or http\/json/);
    expect(() => loadConfig({ OTEL_TRACES_EXPORTER: "otlp", OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "grpc" })).toThrow(/OTEL_EXPORTER_OTLP_TRACES_PROTOCOL must be/);
    // A protocol meant for another SDK on the host does not stop a service that does not trace.
    expect(tracingExport(loadConfig({ OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" }).tracing)).toBeUndefined();
  });
});
