import { AppError } from "../../errors/app-error.ts";
import type { Connector, VariantCase } from "./connector.ts";

export interface ConnectorRegistry {
  /** The connector for a variant; errors/feature_not_implemented when none is configured. */
  connectorFor(variant: VariantCase): Connector;
}

export function createConnectorRegistry(connectors: readonly Connector[]): ConnectorRegistry {
  const byVariant = new Map<VariantCase, Connector>();
  for (const connector of connectors) {
    for (const variant of connector.variants) {
      if (byVariant.has(variant)) throw new Error(`two connectors claim the ${variant} variant`);
      byVariant.set(variant, connector as Connector);
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
