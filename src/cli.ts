import { parseArgs } from "node:util";
import { DEFAULT_SCOPES, parseScopes } from "./auth/scopes.ts";
import { createApiKey, createWorkspace } from "./auth/workspaces.ts";
import { ConfigError, loadConfig, type Config } from "./config.ts";
import { rotateSecrets } from "./crypto/rotate.ts";
import { migrateSealedCredentials } from "./domain/credentials/migrate-sealed-credentials.ts";
import { createLogger } from "./logging.ts";
import { openRuntime } from "./runtime.ts";
import { cliUsage } from "./usage.ts";
import { version } from "./version.ts";

const USAGE = cliUsage();

// Mistakes in how the CLI is called are one line and exit 2, never a stack trace.
let parsed: ReturnType<typeof parseCommandLine>;
try {
  parsed = parseCommandLine();
} catch (e) {
  console.error(`error: ${(e as Error).message}\nTry --help.`);
  process.exit(2);
}
const { positionals, values } = parsed;
const [group, action, arg] = positionals;

if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
if (values.version) {
  console.log(version());
  process.exit(0);
}
const COMMANDS = ["workspaces create", "workspaces list", "keys create", "keys list", "keys scopes", "keys revoke", "secrets rotate", "secrets migrate"];
const command = `${group ?? ""} ${action ?? ""}`;
if (!COMMANDS.includes(command)) {
  console.error(group ? `error: unknown command ${JSON.stringify(command.trim())}\n\n${USAGE}` : USAGE);
  process.exit(2);
}
const pageSize = values["page-size"] === undefined ? undefined : Number(values["page-size"]);
if (pageSize !== undefined && !(Number.isInteger(pageSize) && pageSize >= 1 && pageSize <= 10_000)) {
  console.error("error: --page-size takes a whole number from 1 to 10000\nTry --help.");
  process.exit(2);
}

let config: Config;
try {
  config = loadConfig();
} catch (e) {
  if (!(e instanceof ConfigError)) throw e;
  console.error(`error: ${e.message}`);
  process.exit(1);
}
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
  switch (command) {
    case "workspaces create": {
      const ws = await createWorkspace(store, required(arg, "workspace name"));
      console.log(`${ws.id}\t${ws.name}`);
      return;
    }
    case "workspaces list":
      for (const ws of await store.listWorkspaces()) console.log(`${ws.id}\t${ws.name}\t${ws.createdAt.toISOString()}`);
      return;
    case "keys create": {
      const scopes = values.scope ? parseScopes(values.scope) : DEFAULT_SCOPES;
      const { token } = await createApiKey(store, required(values.workspace, "--workspace"), values.label ?? "", scopes);
      console.log(token);
      return;
    }
    case "keys list": {
      const workspace = values.workspace ? await store.findWorkspaceByName(values.workspace) : undefined;
      if (values.workspace && !workspace) throw new Error(`no workspace named ${JSON.stringify(values.workspace)}`);
      const names = new Map((await store.listWorkspaces()).map((w) => [w.id, w.name]));
      for (const key of await store.listApiKeys(workspace?.id)) {
        console.log([key.id, names.get(key.workspaceId), key.label, key.scopes.join(","), key.createdAt.toISOString(), key.revokedAt ? `revoked ${key.revokedAt.toISOString()}` : "active"].join("\t"));
      }
      return;
    }
    case "keys scopes": {
      const scopes = parseScopes(values.scope ?? []);
      if (scopes.length === 0) throw new Error(`keys scopes needs at least one --scope\n\n${USAGE}`);
      if (!(await store.setApiKeyScopes(required(arg, "key id"), scopes))) throw new Error(`no active key ${JSON.stringify(arg)}`);
      console.log(`${arg}\t${scopes.join(",")}`);
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
    case "secrets migrate": {
      const result = await migrateSealedCredentials({
        store,
        sealer,
        ...(pageSize ? { pageSize } : {}),
        onPage: (n) => console.error(`${n.migrated + n.current + n.skipped + n.failed} rows handled (${n.migrated} migrated)`),
        // SealError and AppError messages name the row's key id at most, never a value.
        onFailure: (row, error) => console.error(`cannot migrate ${row.table} ${row.id}: ${error.message}`),
      });
      console.log(`migrated ${result.migrated}, already current ${result.current}, skipped ${result.skipped} (changed meanwhile), failed ${result.failed}`);
      if (result.failed > 0) process.exitCode = 1;
      return;
    }
  }
}

function required(value: string | undefined, what: string): string {
  if (!value) throw new Error(`missing ${what}\n\n${USAGE}`);
  return value;
}

function parseCommandLine() {
  return parseArgs({
    allowPositionals: true,
    options: { workspace: { type: "string" }, label: { type: "string" }, scope: { type: "string", multiple: true }, "page-size": { type: "string" }, help: { type: "boolean", short: "h" }, version: { type: "boolean", short: "v" } },
  });
}
