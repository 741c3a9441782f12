import type { Connector, VariantCase } from "../domain/connectors/connector.ts";
import type { InteractiveConnector } from "../domain/connectors/interactive.ts";
import { isInteractive, type AnyConnector, type ConnectorRegistry } from "../domain/connectors/registry.ts";
import { variantInfo } from "../domain/accounts/variants.ts";
import type { MetricsSink } from "./metrics.ts";
import { observe } from "./spans.ts";

/**
 * The registry, whose connectors count their calls by provider and outcome
 * (connector_calls_total) and run under a span inside a traced call. A connector serves
 * several variants, so the wrapper is made per variant: that is where the provider is known.
 */
export function observedConnectors(registry: ConnectorRegistry, metrics: MetricsSink): ConnectorRegistry {
  const wrapped = new Map<VariantCase, AnyConnector>();
  return {
    connectorFor(variant) {
      let connector = wrapped.get(variant);
      if (!connector) {
        connector = observedConnector(registry.connectorFor(variant), variantInfo[variant].provider, metrics);
        wrapped.set(variant, connector);
      }
      return connector;
    },
  };
}

function observedConnector(connector: AnyConnector, provider: string, metrics: MetricsSink): AnyConnector {
  const timed = <T>(operation: string, fn: () => Promise<T>) =>
    observe(`connector ${operation}`, { "postpress.provider": provider, "postpress.connector.operation": operation }, fn, (outcome, seconds) =>
      metrics.connector(provider, operation, outcome, seconds),
    );
  if (!isInteractive(connector)) {
    const oneShot: Connector = { variants: connector.variants, connect: (input) => timed("connect", () => connector.connect(input)) };
    return oneShot;
  }
  const interactive: InteractiveConnector = {
    kind: "interactive",
    variants: connector.variants,
    start: (input, call) => timed("start", () => connector.start(input, call)),
    solve: (key, code, call) => timed("solve", () => connector.solve(key, code, call)),
    resend: (key, call) => timed("resend", () => connector.resend(key, call)),
    cancel: (key, call) => timed("cancel", () => connector.cancel(key, call)),
    get: (key, call) => timed("get", () => connector.get(key, call)),
    events: (key, signal, log) => connector.events(key, signal, log),
  };
  return interactive;
}
