/** The service process: configuration, store, both transports, and a graceful drain on SIGTERM/SIGINT. Started by main.ts. */
import packageJson from "../package.json" with { type: "json" };
import { bootstrapFirstStart } from "./bootstrap.ts";
import { loadConfig } from "./config.ts";
import { tracingExport } from "./config/tracing.ts";
import { configOrExit } from "./config/or-exit.ts";
import { productionConnectors } from "./connectors.ts";
import { createLogger } from "./logging.ts";
import type { Tracing } from "./observability/tracing.ts";
import { openRuntime } from "./runtime.ts";
import { precompileRules } from "./rpc/validation.ts";
import { build } from "./server.ts";

/** How long after listening the request rules are compiled (see below). */
const PRECOMPILE_AFTER_MS = 1_000;

const config = configOrExit(() => loadConfig());
const log = createLogger({ level: config.log.level, format: config.log.format });

try {
  // Before anything else, so the first calls are traced too; the SDK is loaded only when on.
  let tracing: Tracing | undefined;
  const tracingOn = tracingExport(config.tracing);
  if (tracingOn) {
    const { startTracing } = await import("./observability/tracing.ts");
    tracing = await startTracing({ ...tracingOn, serviceVersion: packageJson.version }, log);
  }
  const { store, sealer } = await openRuntime(config, log);
  await bootstrapFirstStart(store, { dataDir: config.store.dataDir, production: config.production }, log);
  const connectors = await productionConnectors(config, log);
  const server = build(config, { store, sealer, connectors, log });
  const ports = await server.listen(config.listen);
  log.info(
    {
      pid: process.pid,
      host: config.listen.host,
      ...ports,
      store: store.kind,
      // What this replica can connect; a variant missing here answers errors/feature_not_implemented.
      connectors: connectors.flatMap((c) => c.variants),
      gateways: config.gateways,
      oauthRefresh: { google: config.oauth.google.clientId !== undefined, microsoft: config.oauth.microsoft.clientId !== undefined },
    },
    "serving gRPC and Connect",
  );
  // A moment after start-up rather than right away: each request type's compile holds the loop
  // 50–170 ms, and the first health checks and calls of a just-started replica come first.
  setTimeout(() => precompileRules().catch((err: unknown) => log.warn({ err }, "precompiling the request rules failed; each RPC compiles its own on first use")), PRECOMPILE_AFTER_MS).unref();

  let draining = false;
  const drain = (signal: string) => {
    if (draining) return;
    draining = true;
    log.info({ signal, graceMs: config.drainTimeoutMs }, "draining");
    server
      .drain(config.drainTimeoutMs)
      .then(() => store.close())
      .then(() => tracing?.shutdown())
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
