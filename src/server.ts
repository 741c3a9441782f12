import * as grpc from "@grpc/grpc-js";
import type { Logger } from "pino";
import { AccountService, file_postpress_accounts_v1_account_service } from "../gen/postpress/accounts/v1/account_service_pb.js";
import type { Sealer } from "./crypto/sealer.ts";
import { AccountsService } from "./domain/accounts/accounts-service.ts";
import { createConnectorRegistry, type AnyConnector } from "./domain/connectors/registry.ts";
import { createAccountServiceImpl } from "./rpc/accounts.ts";
import { createCallPipeline } from "./rpc/call.ts";
import type { Store } from "./store/store.ts";
import { createConnectHandler } from "./transport/connect.ts";
import { createGrpcTransport } from "./transport/grpc.ts";
import { createHttpServer } from "./transport/http-server.ts";

export interface ServerDeps {
  store: Store;
  sealer: Sealer;
  /** One-shot connectors and interactive ones (provider-session gateways). */
  connectors: readonly AnyConnector[];
  log: Logger;
  intentTtlMs: number;
  /** The safety-net re-read of tracked intents (changes arrive by notification; default 15 s). */
  intentPollMs?: number;
  /** How often this replica sweeps abandoned intents (default 30 s; 0: never). */
  intentSweepMs?: number;
  /** Open intents a workspace may have at once (default: no limit). */
  maxPendingIntents?: number;
  /** How long an API key read from the store is trusted, so a revocation elsewhere takes up to this long here (default 0: read on every call). */
  apiKeyCacheMs?: number;
  now?: () => Date;
}

export interface ListenOptions {
  host: string;
  grpcPort: number;
  httpPort: number;
}

export interface Server {
  listen(options: ListenOptions): Promise<{ grpcPort: number; httpPort: number }>;
  /** Health goes NOT_SERVING, both transports stop accepting and finish in-flight calls within `graceMs`. */
  drain(graceMs: number): Promise<void>;
}

function isClosable(connector: AnyConnector): connector is AnyConnector & { close(): void } {
  return "close" in connector && typeof connector.close === "function";
}

/** Both transports around one AccountService; listens only when asked (tests use port 0). */
export function build(deps: ServerDeps): Server {
  const shutdown = new AbortController();
  const accounts = new AccountsService({
    store: deps.store,
    sealer: deps.sealer,
    connectors: createConnectorRegistry(deps.connectors),
    intentTtlMs: deps.intentTtlMs,
    log: deps.log,
    ...(deps.intentPollMs ? { intentPollMs: deps.intentPollMs } : {}),
    ...(deps.intentSweepMs !== undefined ? { intentSweepMs: deps.intentSweepMs } : {}),
    ...(deps.maxPendingIntents ? { maxPendingIntents: deps.maxPendingIntents } : {}),
    ...(deps.now ? { now: deps.now } : {}),
  });
  const impl = createAccountServiceImpl(accounts);
  const pipeline = createCallPipeline({ store: deps.store, log: deps.log, apiKeyCacheMs: deps.apiKeyCacheMs ?? 0 });
  const services = [{ service: AccountService, impl, files: [file_postpress_accounts_v1_account_service] }];
  const grpcTransport = createGrpcTransport(services, pipeline, shutdown.signal);
  const http = createHttpServer(createConnectHandler(services, pipeline, shutdown.signal));

  return {
    async listen(options) {
      const grpcPort = await new Promise<number>((resolve, reject) =>
        grpcTransport.server.bindAsync(`${options.host.includes(":") ? `[${options.host}]` : options.host}:${options.grpcPort}`, grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))),
      );
      const httpPort = await http.listen(options.httpPort, options.host);
      return { grpcPort, httpPort };
    },
    async drain(graceMs) {
      // Watches end at once (clients watch again on another replica) and intents stop being
      // followed here: their state is in the store and at the gateway, nothing is lost.
      accounts.stop();
      grpcTransport.health.setStatus("", "NOT_SERVING");
      for (const { service } of services) grpcTransport.health.setStatus(service.typeName, "NOT_SERVING");
      const grpcDone = new Promise<void>((resolve) => grpcTransport.server.tryShutdown(() => resolve()));
      const timer = setTimeout(() => {
        grpcTransport.server.forceShutdown();
        shutdown.abort();
      }, graceMs);
      await Promise.all([grpcDone, http.close(graceMs)]);
      clearTimeout(timer);
      // Channels to provider gateways: nothing calls them any more.
      for (const connector of deps.connectors) if (isClosable(connector)) connector.close();
    },
  };
}
