import { connectNodeAdapter } from "@connectrpc/connect-node";
import type { Logger } from "pino";
import { ProviderGatewayService } from "../../gen/postpress/gateway/v1/gateway_pb.js";
import type { InteractiveConnector } from "../domain/connectors/interactive.ts";
import { listenH2c } from "./h2c.ts";
import { gatewayServiceImpl } from "./service.ts";

export interface GatewayServerOptions {
  connector: InteractiveConnector;
  host: string;
  /** 0: any free port. */
  port: number;
  /** What this replica answers as its address (GATEWAY_ADVERTISE_ADDRESS); default host:port as bound. */
  advertiseAddress?: string;
  log: Logger;
}

export interface GatewayServer {
  /** host:port as the gateway advertises itself. */
  readonly address: string;
  readonly port: number;
  close(): Promise<void>;
}

/** A provider-session gateway: ProviderGatewayService over plaintext gRPC (h2c), answered by `connector`. */
export async function startGatewayServer(options: GatewayServerOptions): Promise<GatewayServer> {
  let replicaAddress = options.advertiseAddress ?? "";
  const handler = connectNodeAdapter({
    grpc: true,
    grpcWeb: false,
    connect: false,
    routes: (router) => router.service(ProviderGatewayService, gatewayServiceImpl(options.connector, { get replicaAddress() { return replicaAddress; }, log: options.log })),
  });
  const listener = await listenH2c(handler, options.host, options.port);
  const host = options.host.includes(":") ? `[${options.host}]` : options.host;
  replicaAddress ||= `${host}:${listener.port}`;
  return {
    address: replicaAddress,
    port: listener.port,
    close: () => listener.close(),
  };
}
