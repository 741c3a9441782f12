import type { Logger } from "pino";
import type { Config } from "./config.ts";
import { loadKeyring } from "./crypto/keyring.ts";
import { createSealer, type Sealer } from "./crypto/sealer.ts";
import { openStore } from "./store/open.ts";
import type { Store } from "./store/store.ts";

/** What both the server and the CLI open from the configuration: the store and the sealer. */
export async function openRuntime(config: Config, log: Logger): Promise<{ store: Store; sealer: Sealer }> {
  const keyring = loadKeyring({ env: config.env, dataDir: config.dataDir, production: config.production, log: (msg) => log.info(msg) });
  const store = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  return { store, sealer: createSealer(keyring) };
}
