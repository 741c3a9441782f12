/**
 * The provider-session gateway process (npm run gateway): the built-in drivers (WhatsApp,
 * Telegram and the web logins) served over postpress.gateway.v1.ProviderGatewayService on
 * their own port, for operators who run provider sessions apart from the API. Point the
 * server at it with GATEWAY_URL_<PROVIDER> (several replicas: comma-separated).
 * On SIGTERM/SIGINT every provider login is canceled and its sockets closed.
 */
import { parseArgs } from "node:util";
import { loadGatewayConfig, telegramApp } from "./config.ts";
import { configOrExit } from "./config/or-exit.ts";
import { builtInDrivers, driverHost } from "./drivers/index.ts";
import { createTargetGuard } from "./net/target-guard.ts";
import { startGatewayServer } from "./gateway/server.ts";
import { createLogger } from "./logging.ts";
import { gatewayUsage } from "./usage.ts";

let options: { help?: boolean };
try {
  options = parseArgs({ options: { help: { type: "boolean", short: "h" } } }).values;
} catch (e) {
  console.error(`postpress-accounts gateway: ${(e as Error).message}\nTry --help.`);
  process.exit(2);
}
if (options.help) {
  console.log(gatewayUsage());
  process.exit(0);
}

const config = configOrExit(() => loadGatewayConfig());
const log = createLogger({ level: config.log.level, format: config.log.format });

try {
  const host = driverHost(builtInDrivers(config, createTargetGuard({ allowed: config.providers.allowedNetworks })), config.drivers, log);
  const server = await startGatewayServer({ connector: host, host: config.listen.host, port: config.listen.port, advertiseAddress: config.listen.advertiseAddress, log });
  log.info(
    { address: server.address, variants: host.variants, telegram: telegramApp(config.drivers) ? "configured" : "TELEGRAM_API_ID/TELEGRAM_API_HASH unset" },
    "gateway serving postpress.gateway.v1.ProviderGatewayService",
  );

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
