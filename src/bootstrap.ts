import { closeSync, fchmodSync, openSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "pino";
import { createApiKey, createWorkspace } from "./auth/workspaces.ts";
import type { Store } from "./store/store.ts";

/**
 * First start on an empty embedded store: a `default` workspace and one API key in
 * <dataDir>/api-key (mode 0600), so the quick start works without the CLI. The log says
 * where the key is, never the key.
 */
export async function bootstrapEmbedded(store: Store, dataDir: string, log: Logger): Promise<void> {
  if (store.kind !== "sqlite" || (await store.listWorkspaces()).length > 0) return;
  await createWorkspace(store, "default");
  const { token, record } = await createApiKey(store, "default", "bootstrap");
  const path = join(dataDir, "api-key");
  const fd = openSync(path, "w", 0o600);
  try {
    // The mode only applies to a new file: one left over from an earlier store is tightened before the key goes in.
    fchmodSync(fd, 0o600);
    writeSync(fd, `${token}\n`);
  } finally {
    closeSync(fd);
  }
  log.info({ path, keyId: record.id, workspace: "default" }, "created workspace 'default' and wrote its first API key to a file");
}
