import { SCOPES } from "./auth/scopes.ts";
import { gatewaySchema, schema } from "./config.ts";
import { configurationHelp } from "./config/help.ts";

/** `--help` of the server: how to start it and every setting, from the configuration schema. */
export function serverUsage(): string {
  return `usage: npm start [-- --help | --version]

Serves postpress.accounts.v1.AccountService over native gRPC (GRPC_PORT) and Connect /
gRPC-Web (HTTP_PORT) until SIGTERM or SIGINT, then drains and exits 0. A bad setting is
one JSON "fatal" log line naming it, and exit code 1.

Configuration (environment variables; blank counts as unset):

${configurationHelp(schema)}`;
}

/** `--help` of the CLI: its commands and the settings it reads (the store and the sealing keys). */
export function cliUsage(): string {
  return `usage: npm run -s cli -- <command> [options]

  workspaces create <name>                      create a workspace
  workspaces list                               list workspaces
  keys create --workspace <name> [--label L] [--scope S]...
                                                create an API key; prints the key alone on stdout.
                                                --scope once per scope; without it: accounts:read,
                                                accounts:write (accounts:* names both), events:read
                                                and webhooks:write, never credentials:read
  keys list [--workspace <name>]                list API keys (ids and scopes, never the keys)
  keys scopes <key_id> --scope S [--scope S]... replace a key's scopes (running servers follow
                                                within API_KEY_CACHE_MS)
  keys revoke <key_id>                          revoke an API key
  secrets rotate                                re-seal every stored secret under the active key
  secrets migrate [--page-size N]               rewrite sealed credentials still in the accounts API's
                                                request form (rows older than the credentials type)
                                                into the service's own type; resumable, safe beside
                                                live traffic; N rows per page (default 100).
                                                Progress on stderr; exit 1 if a row cannot be opened

Scopes (what a key may call; any other call answers errors/scope_required):
${Object.entries(SCOPES)
  .map(([name, what]) => `  ${name.padEnd(18)}${what}`)
  .join("\n")}

  -h, --help       this help
  -v, --version    the version

Uses the server's configuration (-s keeps npm's own banner off stdout, so
KEY=$(npm run -s cli -- keys create --workspace acme) holds the key alone):

${configurationHelp({ store: schema.store, production: schema.production, sealing: schema.sealing })}`;
}

/** `--help` of the gateway process: what it serves and the settings it reads. */
export function gatewayUsage(): string {
  return `usage: npm run gateway [-- --help]

Serves the built-in provider drivers (WhatsApp, Telegram, LinkedIn, Instagram, Messenger, X)
over postpress.gateway.v1.ProviderGatewayService on GATEWAY_PORT until SIGTERM or SIGINT,
then cancels every login and exits 0. Servers reach it through GATEWAY_URL_<PROVIDER>.
A bad setting is one JSON "fatal" log line naming it, and exit code 1.

Configuration (environment variables; blank counts as unset):

${configurationHelp(gatewaySchema)}`;
}
