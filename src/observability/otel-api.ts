import type * as OtelApi from "@opentelemetry/api";

/**
 * The OpenTelemetry API while tracing is on (startTracing sets it, its shutdown clears it),
 * undefined otherwise. With tracing off every API call would be a no-op, and the API alone is
 * ~45 CommonJS modules: the server does not import it before tracing starts, so it is off the
 * start-up path. Read at each use, since tracing may start after the server is built (tests).
 */
let api: typeof OtelApi | undefined;

export function otelApi(): typeof OtelApi | undefined {
  return api;
}

export function setOtelApi(value: typeof OtelApi | undefined): void {
  api = value;
}
