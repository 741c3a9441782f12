import { parseArgs } from "node:util";
import { createApiKey, createWorkspace } from "./auth/workspaces.ts";
import { loadConfig } from "./config.ts";
import { rotateSecrets } from "./crypto/rotate.ts";
import { createLogger } from "./logging.ts";
import { openRuntime } from "./runtime.ts";

const USAGE = `usage: postpress-accounts <command>

  workspaces create <name>                      create a workspace
  workspaces list                               list workspaces
  keys create --workspace <name> [--label L]    create an API key; prints the key alone on stdout
  keys list [--workspace <name>]                list API keys (ids, never the keys)
  keys revoke <key_id>                          revoke an API key
  secrets rotate                                re-seal every stored secret under the active key

Uses the server's configuration: DATA_DIR or DATABASE_URL, SEALING_KEYS / SEALING_ACTIVE_KEY.`;

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { workspace: { type: "string" }, label: { type: "string" }, help: { type: "boolean", short: "h" } },
});
const [group, action, arg] = positionals;

if (values.help || !group) {
  console.log(USAGE);
  process.exit(group ? 0 : 2);
}

const config = loadConfig();
// Diagnostics go to stderr so stdout stays machine-readable (keys create prints only the key).
const log = createLogger({ level: "warn", destination: process.stderr });
const { store, sealer } = await openRuntime(config, log);

try {
  await run();
} catch (err) {
  console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
} finally {
  await store.close();
}

async function run(): Promise<void> {
  switch (`${group} ${action ?? ""}`) {
    case "workspaces create": {
      const ws = await createWorkspace(store, required(arg, "workspace name"));
      console.log(`${ws.id}\t${ws.name}`);
      return;
    }
    case "workspaces list":
      for (const ws of await store.listWorkspaces()) console.log(`${ws.id}\t${ws.name}\t${ws.createdAt.toISOString()}`);
      return;
    case "keys create": {
      const { token } = await createApiKey(store, required(values.workspace, "--workspace"), values.label ?? "");
      console.log(token);
      return;
    }
    case "keys list": {
      const workspace = values.workspace ? await store.findWorkspaceByName(values.workspace) : undefined;
      if (values.workspace && !workspace) throw new Error(`no workspace named ${JSON.stringify(values.workspace)}`);
      const names = new Map((await store.listWorkspaces()).map((w) => [w.id, w.name]));
      for (const key of await store.listApiKeys(workspace?.id)) {
        console.log([key.id, names.get(key.workspaceId), key.label, key.createdAt.toISOString(), key.revokedAt ? `revoked ${key.revokedAt.toISOString()}` : "active"].join("\t"));
      }
      return;
    }
    case "keys revoke":
      if (!(await store.revokeApiKey(required(arg, "key id"), new Date()))) throw new Error(`no active key ${JSON.stringify(arg)}`);
      console.log(`revoked ${arg}`);
      return;
    case "secrets rotate": {
      const result = await rotateSecrets({ store, sealer, activeKeyId: sealer.activeKeyId, onProgress: (n) => console.error(`${n} rows handled`) });
      console.log(`resealed ${result.resealed}, skipped ${result.skipped} (changed meanwhile), failed ${result.failed}`);
      if (result.failed > 0) process.exitCode = 1;
      return;
    }
    default:
      console.error(USAGE);
      process.exitCode = 2;
  }
}

function required(value: string | undefined, what: string): string {
  if (!value) throw new Error(`missing ${what}\n\n${USAGE}`);
  return value;
}
