import type { Logger } from "pino";
import type { Config } from "./config.ts";
import { loadKeyring } from "./crypto/keyring.ts";
import { createSealer, type Sealer } from "./crypto/sealer.ts";
import { openStore } from "./store/open.ts";
import type { Store } from "./store/store.ts";

/** What both the server and the CLI open from the configuration: the store and the sealer. */
export async function openRuntime(config: Config, log: Logger): Promise<{ store: Store; sealer: Sealer }> {
  const keyring = loadKeyring({ ...config.sealing, dataDir: config.store.dataDir, log: (msg) => log.info(msg) });
  const store = await openStore(config.store);
  return { store, sealer: createSealer(keyring) };
}
