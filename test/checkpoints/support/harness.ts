import { gatewayConnectors, type GatewayConnector, type GatewayProvider } from "../../../src/domain/connectors/gateway/index.ts";
import { startTestServer, type TestServer, type TestServerOptions } from "../../support/server.ts";

export interface CheckpointServer extends TestServer {
  gateways: GatewayConnector[];
}

export interface CheckpointServerOptions extends TestServerOptions {
  /** GATEWAY_URL_<PROVIDER> as configuration would give them. */
  gateways?: Partial<Record<GatewayProvider, string>>;
}

/** The real server (src/server.ts build()) on ports 0, with gateway connectors built from configuration. */
export async function startCheckpointServer(options: CheckpointServerOptions = {}): Promise<CheckpointServer> {
  const gateways = gatewayConnectors(options.gateways ?? {});
  const { gateways: _endpoints, connectors = [], intentPollMs = 100, ...rest } = options;
  const server = await startTestServer({ ...rest, intentPollMs, connectors: [...gateways, ...connectors] });
  return {
    ...server,
    gateways,
    async close() {
      await server.close();
      for (const g of gateways) g.close();
    },
  };
}
