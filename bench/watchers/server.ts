/**
 * One service process of the watcher bench: src/server.ts build() on a real store with the
 * idle QR connector, no practical pending-intent cap. Prints {"grpcPort","pid","apiKey"} once listening.
 *
 *   --store sqlite|postgres   (postgres: --database-url and --schema; the same schema for every replica)
 *   --api-key KEY             a replica after the first: the key the first one created
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { createApiKey, createWorkspace } from "../../src/auth/workspaces.ts";
import { parseKeyring } from "../../src/crypto/keyring.ts";
import { loadConfig } from "../../src/config.ts";
import { createSealer } from "../../src/crypto/sealer.ts";
import { build } from "../../src/server.ts";
import { openPostgresStore } from "../../src/store/postgres.ts";
import { openSqliteStore } from "../../src/store/sqlite.ts";
import { idleQrConnector } from "./idle-qr-connector.ts";

/** `--name value`. (Not bench/servers/common.ts's: importing it starts a 1 ms event-loop-delay sampler, which is most of an idle server's CPU.) */
function option(name: string): string | undefined {
  const at = process.argv.indexOf(`--${name}`);
  return at < 0 ? undefined : process.argv[at + 1];
}

const backend = option("store") ?? "sqlite";
const store =
  backend === "postgres"
    ? await openPostgresStore({ connectionString: option("database-url")!, schema: option("schema")! })
    : await openSqliteStore({ path: join(mkdtempSync(join(tmpdir(), "ppa-watchers-")), "accounts.db") });
let apiKey = option("api-key");
if (!apiKey) {
  await createWorkspace(store, "bench");
  apiKey = (await createApiKey(store, "bench", "bench")).token;
}
// The same keyring on every replica: any of them opens what another sealed.
const sealer = createSealer(parseKeyring(option("sealing-keys") ?? `bench:${randomBytes(32).toString("base64")}`));
// No practical pending-intent cap; the replica's own background work (health checks, webhooks) off so it does not count against idle.
const config = loadConfig({ INTENT_TTL_MS: "3600000", MAX_PENDING_INTENTS: "1000000000", ACCOUNT_CHECK_POLL_MS: "0", WEBHOOK_POLL_MS: "0" });
const server = build(config, { store, sealer, connectors: [idleQrConnector()], log: pino({ level: "warn" }, pino.destination(2)) });
const { grpcPort } = await server.listen({ host: "127.0.0.1", grpcPort: 0, httpPort: 0 });
process.stdout.write(`${JSON.stringify({ grpcPort, pid: process.pid, apiKey })}\n`);
process.on("SIGTERM", () => {
  void server.drain(1_000).then(() => store.close()).then(() => process.exit(0));
});
