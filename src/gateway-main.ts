/**
 * The provider-session gateway process (npm run gateway): the WhatsApp and Telegram drivers
 * served over postpress.gateway.v1.ProviderGatewayService on their own port, for operators
 * who run provider sessions apart from the API. Point the server at it with
 * GATEWAY_URL_WHATSAPP / GATEWAY_URL_TELEGRAM (several replicas: comma-separated).
 * On SIGTERM/SIGINT every provider login is canceled and its sockets closed.
 */
import { loadConfig } from "./config.ts";
import { builtInDrivers } from "./drivers/index.ts";
import { createDriverHost } from "./drivers/host/host.ts";
import { startGatewayServer } from "./gateway/server.ts";
import { createLogger } from "./logging.ts";

const config = loadConfig();
const log = createLogger({ level: config.logLevel });

try {
  const host = createDriverHost({
    drivers: builtInDrivers(config.drivers),
    log: log.child({ component: "driver-host" }),
    maxPendingSessions: config.drivers.maxPendingSessions,
    sessionTtlMs: config.drivers.sessionTtlMs,
  });
  const server = await startGatewayServer({ connector: host, host: config.gateway.host, port: config.gateway.port, advertiseAddress: config.gateway.advertiseAddress, log });
  log.info({ address: server.address, variants: host.variants, telegram: config.drivers.telegram ? "configured" : "TELEGRAM_API_ID/TELEGRAM_API_HASH unset" }, "gateway serving postpress.gateway.v1.ProviderGatewayService");

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "stopping: closing provider logins");
    Promise.all([host.close(), server.close()]).then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, "stop failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
} catch (err) {
  log.fatal({ err }, "could not start");
  process.exit(1);
}
