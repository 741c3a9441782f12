import * as grpc from "@grpc/grpc-js";
import type { Logger } from "pino";
import type { Config } from "./config.ts";
import { AccountService, file_postpress_accounts_v1_account_service } from "../gen/postpress/accounts/v1/account_service_pb.js";
import type { Sealer } from "./crypto/sealer.ts";
import { AccountsService } from "./domain/accounts/accounts-service.ts";
import { createConnectorRegistry, type AnyConnector } from "./domain/connectors/registry.ts";
import { EventService, file_postpress_accounts_v1_event_service } from "../gen/postpress/accounts/v1/event_service_pb.js";
import { EventStream } from "./domain/events/event-stream.ts";
import { HealthChecker } from "./domain/events/health-checker.ts";
import { WebhookDeliverer } from "./domain/events/webhook-deliverer.ts";
import { WebhookEndpoints } from "./domain/events/webhook-endpoints.ts";
import { basicCheckUrl, type CheckUrl } from "./domain/events/webhook-target.ts";
import { createAccountServiceImpl } from "./rpc/accounts.ts";
import { createEventServiceImpl } from "./rpc/events.ts";
import { createCallPipeline } from "./rpc/call.ts";
import type { Store } from "./store/store.ts";
import { createConnectHandler } from "./transport/connect.ts";
import { createGrpcTransport } from "./transport/grpc.ts";
import { createHttpServer } from "./transport/http-server.ts";

/** What the server runs on besides its configuration: built by the caller, injected by tests. */
export interface ServerDeps {
  store: Store;
  sealer: Sealer;
  /** One-shot connectors and interactive ones (provider-session gateways). */
  connectors: readonly AnyConnector[];
  log: Logger;
  now?: () => Date;
  /** Which webhook URLs may be called (default: https to public addresses, per WEBHOOK_ALLOW_PRIVATE_TARGETS). */
  checkUrl?: CheckUrl;
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

/**
 * Both transports around one AccountService; listens only when asked (tests use port 0).
 * Every tunable comes from the parsed configuration: build() has no defaults of its own, so
 * a test server runs with what production runs with unless the test says otherwise.
 */
export function build(config: Pick<Config, "intents" | "auth" | "healthChecks" | "events" | "webhooks">, deps: ServerDeps): Server {
  const shutdown = new AbortController();
  const connectors = createConnectorRegistry(deps.connectors);
  const accounts = new AccountsService({
    store: deps.store,
    sealer: deps.sealer,
    connectors,
    intentTtlMs: config.intents.ttlMs,
    intentPollMs: config.intents.pollMs,
    log: deps.log,
    ...(deps.now ? { now: deps.now } : {}),
  });
  const impl = createAccountServiceImpl(accounts);
  const pipeline = createCallPipeline({ store: deps.store, log: deps.log, apiKeyCacheMs: config.auth.apiKeyCacheMs });
  // Background work (health checks, webhook deliveries) runs on every replica; the store hands out the work.
  const events = new EventStream({ store: deps.store, pollMs: config.events.pollMs });
  const checkUrl = deps.checkUrl ?? basicCheckUrl({ allowPrivate: config.webhooks.allowPrivateTargets });
  const webhooks = new WebhookEndpoints({ store: deps.store, sealer: deps.sealer, checkUrl, ...(deps.now ? { now: deps.now } : {}) });
  const background = [
    new HealthChecker({ store: deps.store, sealer: deps.sealer, connectors, settings: config.healthChecks, log: deps.log }),
    new WebhookDeliverer({ store: deps.store, sealer: deps.sealer, checkUrl, settings: config.webhooks, log: deps.log }),
  ];
  const services = [
    { service: AccountService, impl, files: [file_postpress_accounts_v1_account_service] },
    { service: EventService, impl: createEventServiceImpl(events, webhooks), files: [file_postpress_accounts_v1_event_service] },
  ];
  const grpcTransport = createGrpcTransport(services, pipeline, shutdown.signal);
  const http = createHttpServer(createConnectHandler(services, pipeline, shutdown.signal));

  return {
    async listen(options) {
      const grpcPort = await new Promise<number>((resolve, reject) =>
        grpcTransport.server.bindAsync(`${options.host.includes(":") ? `[${options.host}]` : options.host}:${options.grpcPort}`, grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))),
      );
      const httpPort = await http.listen(options.httpPort, options.host);
      for (const worker of background) worker.start();
      return { grpcPort, httpPort };
    },
    async drain(graceMs) {
      // Watches end at once (clients watch again on another replica) and intents stop being
      // followed here: their state is in the store and at the gateway, nothing is lost.
      accounts.stop();
      events.stop();
      const backgroundDone = Promise.all(background.map((worker) => worker.stop()));
      grpcTransport.health.setStatus("", "NOT_SERVING");
      for (const { service } of services) grpcTransport.health.setStatus(service.typeName, "NOT_SERVING");
      // Health watchers have just been told NOT_SERVING; their open streams must not hold the drain.
      grpcTransport.health.endWatches();
      const grpcDone = new Promise<void>((resolve) => grpcTransport.server.tryShutdown(() => resolve()));
      const timer = setTimeout(() => {
        grpcTransport.server.forceShutdown();
        shutdown.abort();
      }, graceMs);
      await Promise.all([grpcDone, http.close(graceMs), backgroundDone]);
      clearTimeout(timer);
    },
  };
}
