import { newId } from "../ids.ts";
import type { ApiKeyRecord, Store, Workspace } from "../store/store.ts";
import { generateApiKey } from "./api-key.ts";
import { DEFAULT_SCOPES, type Scope } from "./scopes.ts";

/** Workspace and API key administration, shared by the CLI and the first-start bootstrap. */
export async function createWorkspace(store: Store, name: string, now = new Date()): Promise<Workspace> {
  if (!/^[a-z0-9][a-z0-9_-]{0,62}$/.test(name)) throw new Error(`workspace name must be lowercase letters, digits, "-" or "_" (1-63 chars), got ${JSON.stringify(name)}`);
  if (await store.findWorkspaceByName(name)) throw new Error(`workspace ${JSON.stringify(name)} already exists`);
  const workspace = { id: newId("ws_"), name, createdAt: now };
  await store.createWorkspace(workspace);
  return workspace;
}

/**
 * Returns the key string: the only time it exists outside the caller's hands. Without
 * `scopes` the key reads and writes accounts; credentials:read is only ever given on purpose.
 */
export async function createApiKey(store: Store, workspaceName: string, label: string, scopes: readonly Scope[] = DEFAULT_SCOPES, now = new Date()): Promise<{ token: string; record: ApiKeyRecord }> {
  if (scopes.length === 0) throw new Error("an API key needs at least one scope");
  const workspace = await store.findWorkspaceByName(workspaceName);
  if (!workspace) throw new Error(`no workspace named ${JSON.stringify(workspaceName)}`);
  const { token, keyId, secretHash } = generateApiKey();
  const record: ApiKeyRecord = { id: keyId, workspaceId: workspace.id, secretHash, label, scopes: [...scopes], createdAt: now, revokedAt: null };
  await store.createApiKey(record);
  return { token, record };
}
