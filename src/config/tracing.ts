import type { OtlpProtocol } from "../observability/tracing.ts";
import { Invalid, setting } from "./setting.ts";
import type { Parsed, Problem } from "./tree.ts";

const PROTOCOLS: readonly string[] = ["http/protobuf", "http/json"] satisfies OtlpProtocol[];
const PROTOCOL_ACCEPTED = "http/protobuf or http/json (OTLP over gRPC is not supported)";

/**
 * The standard OTEL_* variables that decide whether traces are exported, and how. The exporter
 * reads the rest itself (OTEL_EXPORTER_OTLP_HEADERS, _TIMEOUT, OTEL_SERVICE_NAME, ...), and the
 * endpoints too: they are read here only to know whether tracing was asked for.
 */
export const tracingSchema = {
  sdkDisabled: setting({ env: "OTEL_SDK_DISABLED", default: "false", doc: "true: no tracing, whatever else is set", accepted: "true or false", parse: (v) => v.toLowerCase() === "true" }),
  exporters: setting({
    env: "OTEL_TRACES_EXPORTER",
    doc: "otlp: export traces (on by default when an OTLP endpoint is set); none: off",
    accepted: "otlp or none",
    parse: (v) => {
      const exporters = v.split(",").map((e) => e.trim()).filter((e) => e !== "");
      if (exporters.some((e) => e !== "otlp" && e !== "none")) throw new Invalid();
      return exporters;
    },
  }),
  endpoint: setting({ env: "OTEL_EXPORTER_OTLP_ENDPOINT", doc: "OTLP/HTTP collector base URL (/v1/traces is appended); setting it turns tracing on", accepted: "an http(s) URL", parse: (v) => v, secret: true }),
  tracesEndpoint: setting({ env: "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", doc: "OTLP/HTTP traces URL, used as is; setting it turns tracing on", accepted: "an http(s) URL", parse: (v) => v, secret: true }),
  // Kept as text: checked only when tracing is on, so a value meant for another SDK does not stop the service.
  protocol: setting({ env: "OTEL_EXPORTER_OTLP_PROTOCOL", default: "http/protobuf", doc: "OTLP encoding", accepted: PROTOCOL_ACCEPTED, parse: (v) => v }),
  tracesProtocol: setting({ env: "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", doc: "OTLP encoding of traces (default: OTEL_EXPORTER_OTLP_PROTOCOL)", accepted: PROTOCOL_ACCEPTED, parse: (v) => v }),
};

export type TracingSettings = Parsed<typeof tracingSchema>;

/** Tracing is off unless asked for, the OpenTelemetry way: OTEL_TRACES_EXPORTER=otlp or an endpoint, and not disabled. */
function askedFor(t: TracingSettings): boolean {
  if (t.sdkDisabled || t.exporters?.includes("none")) return false;
  return Boolean(t.exporters?.length) || t.endpoint !== undefined || t.tracesEndpoint !== undefined;
}

/** How traces are exported; undefined: tracing off. */
export function tracingExport(t: TracingSettings): { protocol: OtlpProtocol } | undefined {
  const protocol = t.tracesProtocol ?? t.protocol;
  return askedFor(t) && PROTOCOLS.includes(protocol) ? { protocol: protocol as OtlpProtocol } : undefined;
}

/** A protocol the exporter cannot speak, refused only when tracing is on. */
export function tracingProblem(t: TracingSettings): Problem | undefined {
  const protocol = t.tracesProtocol ?? t.protocol;
  if (!askedFor(t) || PROTOCOLS.includes(protocol)) return undefined;
  const variable = t.tracesProtocol !== undefined ? "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL" : "OTEL_EXPORTER_OTLP_PROTOCOL";
  return { variable, accepted: PROTOCOL_ACCEPTED, message: `${variable} must be ${PROTOCOL_ACCEPTED}, got ${JSON.stringify(protocol)}` };
}
