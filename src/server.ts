import * as grpc from "@grpc/grpc-js";
import type { Logger } from "pino";
import type { Config } from "./config.ts";
import { AccountService, file_postpress_accounts_v1_account_service } from "../gen/postpress/accounts/v1/account_service_pb.js";
import type { Sealer } from "./crypto/sealer.ts";
import { AccountsService } from "./domain/accounts/accounts-service.ts";
import { createConnectorRegistry, type AnyConnector } from "./domain/connectors/registry.ts";
import { EventService, file_postpress_accounts_v1_event_service } from "../gen/postpress/accounts/v1/event_service_pb.js";
import { createTokenRefresher } from "./domain/credentials/create-refresher.ts";
import { CredentialReader } from "./domain/credentials/credential-reader.ts";
import { EventStream } from "./domain/events/event-stream.ts";
import { HealthChecker } from "./domain/events/health-checker.ts";
import { WebhookDeliverer } from "./domain/events/webhook-deliverer.ts";
import { WebhookEndpoints } from "./domain/events/webhook-endpoints.ts";
import { webhookUrlRule } from "./domain/events/webhook-target.ts";
import { createTargetGuard } from "./net/target-guard.ts";
import { createGrpcHealth } from "./observability/grpc-health.ts";
import { createObservability } from "./observability/observability.ts";
import { withProbes } from "./observability/probes.ts";
import { createAccountServiceImpl } from "./rpc/accounts.ts";
import { credentialServiceBindings } from "./rpc/credentials.ts";
import { createEventServiceImpl } from "./rpc/events.ts";
import { createCallPipeline } from "./rpc/call.ts";
import { createRestHandler, REST_PREFIX } from "./rest/routes.ts";
import type { Store } from "./store/store.ts";
import { withCors } from "./transport/cors.ts";
import { createGrpcTransport } from "./transport/grpc.ts";
import { createHttpServer } from "./transport/http-server.ts";
import { lazyHandler } from "./transport/lazy-handler.ts";

/** What the server runs on besides its configuration: built by the caller, injected by tests. */
export interface ServerDeps {
  store: Store;
  sealer: Sealer;
  /** One-shot connectors and interactive ones (provider-session gateways). */
  connectors: readonly AnyConnector[];
  log: Logger;
  now?: () => Date;
}

export interface ListenOptions {
  host: string;
  grpcPort: number;
  httpPort: number;
  /** The admin port of GET /metrics; none when undefined. */
  metricsPort?: number | undefined;
}

export interface Server {
  listen(options: ListenOptions): Promise<{ grpcPort: number; httpPort: number; metricsPort?: number }>;
  /** Health goes NOT_SERVING (watches end), both transports stop accepting and finish in-flight calls within `graceMs`. */
  drain(graceMs: number): Promise<void>;
}

/**
 * Both transports around one AccountService; listens only when asked (tests use port 0).
 * Every tunable comes from the parsed configuration: build() has no defaults of its own, so
 * a test server runs with what production runs with unless the test says otherwise.
 */
export function build(
  config: Pick<Config, "intents" | "auth" | "health" | "transport" | "healthChecks" | "events" | "webhooks" | "providers" | "oauth" | "credentials">,
  deps: ServerDeps,
): Server {
  const shutdown = new AbortController();
  let draining: Promise<void> | undefined;
  const now = deps.now ?? (() => new Date());
  const observability = createObservability({ store: deps.store, log: deps.log, healthCheckIntervalMs: config.health.checkIntervalMs, now });
  const { store, health } = observability;
  const connectors = observability.observeConnectors(createConnectorRegistry(deps.connectors));
  // Background work (health checks, webhook deliveries, following intents, the intent sweep) runs
  // on every replica; the store hands out the work. It and the polls of open streams are counted
  // but never traced (no trace per poll).
  const quiet = observability.untracedStore;
  const accounts = new AccountsService({
    store,
    backgroundStore: quiet,
    sealer: deps.sealer,
    connectors,
    intentTtlMs: config.intents.ttlMs,
    intentPollMs: config.intents.pollMs,
    intentSweepMs: config.intents.sweepMs,
    maxPendingIntents: config.intents.maxPending,
    log: deps.log,
    ...(deps.now ? { now: deps.now } : {}),
  });
  const impl = createAccountServiceImpl(accounts);
  const pipeline = createCallPipeline({ store, log: deps.log, apiKeyCacheMs: config.auth.apiKeyCacheMs, metrics: observability.metrics });
  const events = new EventStream({ store: quiet, pollMs: config.events.pollMs });
  const guard = createTargetGuard({ allowed: config.providers.allowedNetworks });
  const checkUrl = webhookUrlRule(guard, config.providers.allowedNetworks);
  const webhooks = new WebhookEndpoints({ store, sealer: deps.sealer, checkUrl, ...(deps.now ? { now: deps.now } : {}) });
  // One refresher of stored OAuth tokens for GetCredentials and the health checks: one refresh at a time per account.
  const refresher = createTokenRefresher(config, { store, sealer: deps.sealer, guard, log: deps.log, now });
  const background = [
    new HealthChecker({ store: quiet, sealer: deps.sealer, connectors, refresher, settings: config.healthChecks, log: deps.log }),
    new WebhookDeliverer({ store: quiet, sealer: deps.sealer, checkUrl, guard, settings: config.webhooks, log: deps.log }),
  ];
  const services = [
    { service: AccountService, impl, files: [file_postpress_accounts_v1_account_service] },
    { service: EventService, impl: createEventServiceImpl(events, webhooks), files: [file_postpress_accounts_v1_event_service] },
  ];
  // Off by default, or on the gRPC port only (CREDENTIALS_SERVICE): every port knows it, to refuse it alike.
  const reader = new CredentialReader({ store, sealer: deps.sealer, refresher, log: deps.log, metrics: observability.metrics });
  const credentials = credentialServiceBindings(config.credentials.service, reader);
  const grpcHealth = createGrpcHealth(health, [...services, ...(config.credentials.service === "off" ? [] : [credentials.grpc])].map((s) => s.service.typeName));
  const grpcTransport = createGrpcTransport([...services, credentials.grpc], pipeline, shutdown.signal, grpcHealth, config.transport);
  // Connect and gRPC-Web (connect-node) are loaded on their first request: see lazy-handler.ts.
  const connect = lazyHandler(pipeline, () => import("./transport/connect.ts").then((m) => m.createConnectHandler([...services, credentials.http], pipeline, shutdown.signal)));
  const rest = createRestHandler(accounts, pipeline, shutdown.signal);
  // CORS above the REST/Connect split: one origin policy for every browser-facing surface.
  const routed = withCors(config.transport.corsAllowedOrigins ?? [], (req, res, refusal) => (req.url?.startsWith(REST_PREFIX) ? rest(req, res, refusal) : connect(req, res, refusal)));
  const http = createHttpServer(withProbes(health, routed), config.transport);

  return {
    async listen(options) {
      const metricsPort = await observability.listen(options.metricsPort, options.host);
      const grpcPort = await new Promise<number>((resolve, reject) =>
        grpcTransport.server.bindAsync(`${options.host.includes(":") ? `[${options.host}]` : options.host}:${options.grpcPort}`, grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))),
      );
      const httpPort = await http.listen(options.httpPort, options.host);
      for (const worker of background) worker.start();
      return { grpcPort, httpPort, ...(metricsPort === undefined ? {} : { metricsPort }) };
    },
    drain(graceMs) {
      // Once: a second call (a test's close after its drain, a second signal) waits for the first.
      return (draining ??= drainOnce(graceMs));
    },
  };

  async function drainOnce(graceMs: number): Promise<void> {
    // Watches end at once (clients watch again on another replica) and intents stop being
    // followed here: their state is in the store and at the gateway, nothing is lost.
    accounts.stop();
    events.stop();
    const backgroundDone = Promise.all(background.map((worker) => worker.stop()));
    health.drain();
    const grpcDone = new Promise<void>((resolve) => grpcTransport.server.tryShutdown(() => resolve()));
    const timer = setTimeout(() => {
      grpcTransport.server.forceShutdown();
      shutdown.abort();
    }, graceMs);
    await Promise.all([grpcDone, http.close(graceMs), backgroundDone]);
    clearTimeout(timer);
    // Provider sockets (in-process driver logins) and gateway channels go last: no call needs them now.
    await Promise.all(deps.connectors.map((connector) => ("close" in connector && typeof connector.close === "function" ? connector.close() : undefined)));
    await observability.close();
  }
}
