/** The service process: configuration, store, both transports, and a graceful drain on SIGTERM/SIGINT. Started by main.ts. */
import { bootstrapEmbedded } from "./bootstrap.ts";
import { loadConfig } from "./config.ts";
import { productionConnectors } from "./connectors.ts";
import { createLogger } from "./logging.ts";
import { openRuntime } from "./runtime.ts";
import { build } from "./server.ts";

const config = loadConfig();
const log = createLogger({ level: config.logLevel });

try {
  const { store, sealer } = await openRuntime(config, log);
  await bootstrapEmbedded(store, config.dataDir, log);
  const server = build({
    store,
    sealer,
    connectors: productionConnectors(config),
    log,
    intentTtlMs: config.intentTtlMs,
    intentPollMs: config.intentPollMs,
    intentSweepMs: config.intentSweepMs,
    maxPendingIntents: config.maxPendingIntents,
    apiKeyCacheMs: config.apiKeyCacheMs,
  });
  const ports = await server.listen(config);
  log.info({ host: config.host, ...ports, store: store.kind }, "serving gRPC and Connect");

  let draining = false;
  const drain = (signal: string) => {
    if (draining) return;
    draining = true;
    log.info({ signal, graceMs: config.drainTimeoutMs }, "draining");
    server
      .drain(config.drainTimeoutMs)
      .then(() => store.close())
      .then(() => {
        log.info("stopped");
        process.exit(0);
      }, (err: unknown) => {
        log.error({ err }, "drain failed");
        process.exit(1);
      });
  };
  process.on("SIGTERM", () => drain("SIGTERM"));
  process.on("SIGINT", () => drain("SIGINT"));
} catch (err) {
  log.fatal({ err }, "could not start");
  process.exit(1);
}
