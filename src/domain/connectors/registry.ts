import { AppError } from "../../errors/app-error.ts";
import type { Connector, VariantCase } from "./connector.ts";
import type { InteractiveConnector } from "./interactive.ts";

/** A one-shot connector, or one whose login may stop at checkpoints (see interactive.ts). */
export type AnyConnector = Connector | InteractiveConnector;

export function isInteractive(connector: AnyConnector): connector is InteractiveConnector {
  return "kind" in connector && connector.kind === "interactive";
}

export interface ConnectorRegistry {
  /** The connector for a variant; errors/feature_not_implemented when none is configured. */
  connectorFor(variant: VariantCase): AnyConnector;
}

export function createConnectorRegistry(connectors: readonly AnyConnector[]): ConnectorRegistry {
  const byVariant = new Map<VariantCase, AnyConnector>();
  for (const connector of connectors) {
    for (const variant of connector.variants) {
      if (byVariant.has(variant)) throw new Error(`two connectors claim the ${variant} variant`);
      byVariant.set(variant, connector as AnyConnector);
    }
  }
  return {
    connectorFor(variant) {
      const connector = byVariant.get(variant);
      if (!connector) throw new AppError("feature_not_implemented", { detail: `No connector is configured for the ${variant} variant.`, metadata: { variant } });
      return connector;
    },
  };
}
