import { closeSync, fchmodSync, openSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "pino";
import { createApiKey, createWorkspace } from "./auth/workspaces.ts";
import { ensureDataDir } from "./data-dir.ts";
import type { Store } from "./store/store.ts";

/**
 * First start on an empty store (embedded or PostgreSQL), outside production: a `default`
 * workspace and one API key in <dataDir>/api-key (mode 0600), so the quick start works
 * without the CLI. The log says where the key is, never the key. In production an empty
 * store stays empty: workspaces and keys are made with the CLI.
 */
export async function bootstrapFirstStart(store: Store, options: { dataDir: string; production: boolean }, log: Logger): Promise<void> {
  if ((await store.listWorkspaces()).length > 0) return;
  if (options.production) {
    log.warn({ store: store.kind }, "the store has no workspace: create one and its API key with the CLI (workspaces create, keys create)");
    return;
  }
  try {
    await createWorkspace(store, "default");
  } catch (e) {
    // Replicas starting together on one empty database: one creates it, the others go on.
    if (await store.findWorkspaceByName("default")) return;
    throw e;
  }
  const { token, record } = await createApiKey(store, "default", "bootstrap");
  ensureDataDir(options.dataDir);
  const path = join(options.dataDir, "api-key");
  const fd = openSync(path, "w", 0o600);
  try {
    // The mode only applies to a new file: one left over from an earlier store is tightened before the key goes in.
    fchmodSync(fd, 0o600);
    writeSync(fd, `${token}\n`);
  } finally {
    closeSync(fd);
  }
  log.info({ path, keyId: record.id, workspace: "default", store: store.kind }, "created workspace 'default' and wrote its first API key to a file");
}
