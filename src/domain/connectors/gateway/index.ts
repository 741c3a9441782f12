import { createGatewayConnector, type GatewayConnector } from "./gateway-connector.ts";
import { GATEWAY_PROVIDERS, type GatewayProvider } from "./providers.ts";

export { createGatewayConnector, type GatewayConnector } from "./gateway-connector.ts";
export { GATEWAY_PROVIDERS, type GatewayProvider } from "./providers.ts";

/** One connector per configured gateway; a provider without one stays unconfigured (feature_not_implemented). */
export function gatewayConnectors(endpoints: Partial<Record<GatewayProvider, string>>): GatewayConnector[] {
  return (Object.keys(GATEWAY_PROVIDERS) as GatewayProvider[]).flatMap((provider) => {
    const address = endpoints[provider];
    return address ? [createGatewayConnector({ provider, address, variants: GATEWAY_PROVIDERS[provider] })] : [];
  });
}
