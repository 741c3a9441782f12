import type { MessageInitShape } from "@bufbuild/protobuf";
import type { ConnectAccountRequestSchema } from "../../../gen/postpress/accounts/v1/account_service_pb.js";
import { loadConfig } from "../../../src/config.ts";
import { createGatewayConnector, type GatewayConnector } from "../../../src/domain/connectors/gateway/index.ts";
import { FINAL_AUTH_STATUSES, type AuthState, type AuthStatus, type InteractiveConnector } from "../../../src/domain/connectors/interactive.ts";
import { driverHost } from "../../../src/drivers/index.ts";
import { webDrivers } from "../../../src/drivers/web-drivers.ts";
import { createTargetGuard } from "../../../src/net/target-guard.ts";
import { capturedLogger } from "../logs.ts";
import type { DriverLab } from "./drive.ts";
import { startGatewayProcess, type GatewayProcess } from "./gateway-process.ts";
import { call, startInput } from "./hosts.ts";

/**
 * The two hosts a web driver runs on, as the server meets them: the in-process host the server
 * embeds by default (built from the configuration as `npm start` builds it), and the gateway
 * process (`npm run gateway`, a child process on a real port, configured only through its
 * environment: the fakes' base URLs and the test CA) reached through the gateway connector a
 * server uses for GATEWAY_URL_<PROVIDER>. A scenario table runs once per host.
 */
export const WEB_HOSTS = ["in-process", "gateway process"] as const;
export type WebHostKind = (typeof WEB_HOSTS)[number];

export type WebVariant = MessageInitShape<typeof ConnectAccountRequestSchema>["variant"];

/** A checkpoint lifetime short enough for expiry tests (a second host is started for them). */
const SHORT_CHECKPOINT_TTL_MS = "1000";

/** One login on a host, followed the way the intent engine follows it (start, then the event stream). */
export interface HostedDriven {
  /** Every state seen: start's answer, then each event's. */
  states: AuthState[];
  /** The host's log lines (all of its logins'; the gateway process's whole output). */
  lines: string[];
  /** The first state with this status, or passing this test (already seen, or the next one). */
  until(match: AuthStatus | ((state: AuthState) => boolean)): Promise<AuthState>;
  solve(code: string): Promise<AuthState>;
  resend(): Promise<AuthState>;
  cancel(): Promise<AuthState>;
  current(): Promise<AuthState>;
}

export interface WebHost {
  kind: WebHostKind;
  /** What a server is given for these variants. */
  connector: InteractiveConnector;
  /** Every log line of this host (for the gateway process: its stdout and stderr). */
  lines: string[];
  /** Starts a login; `shortTtl`: on a twin host whose checkpoints expire after SHORT_CHECKPOINT_TTL_MS. */
  drive(variant: WebVariant, options?: { shortTtl?: boolean }): HostedDriven;
  close(): Promise<void>;
}

interface Backend {
  connector: InteractiveConnector;
  lines: string[];
  close(): Promise<void>;
}

const WEB_VARIANTS = ["linkedinCookie", "linkedinBasic", "instagramCookie", "instagramBasic", "messengerSession", "messengerBasic", "twitter"] as const;

async function inProcess(vars: Record<string, string>): Promise<Backend> {
  const config = loadConfig(vars);
  const { log, lines } = capturedLogger();
  const host = driverHost(webDrivers(config.webDrivers, createTargetGuard({ allowed: config.providers.allowedNetworks })), config.drivers, log);
  return { connector: host, lines, close: () => host.close() };
}

async function gatewayProcess(vars: Record<string, string>): Promise<Backend> {
  const gateway: GatewayProcess = await startGatewayProcess(vars);
  const connector: GatewayConnector = createGatewayConnector({ provider: "WEB", address: gateway.address, variants: WEB_VARIANTS });
  return {
    connector,
    lines: gateway.lines,
    async close() {
      connector.close();
      const code = await gateway.stop();
      if (code !== 0) throw new Error(`the gateway process exited ${code}:\n${gateway.lines.slice(-20).join("\n")}`);
    },
  };
}

/** A host of the seven web drivers configured with `vars` (the fakes' base URLs) on top of the lab's CA and allow-list. */
export async function startWebHost(kind: WebHostKind, lab: DriverLab, vars: Record<string, string>): Promise<WebHost> {
  const open = (extra: Record<string, string>) => (kind === "in-process" ? inProcess(lab.vars({ ...vars, ...extra })) : gatewayProcess(lab.vars({ ...vars, ...extra })));
  const main = await open({});
  let short: Promise<Backend> | undefined;
  return {
    kind,
    connector: main.connector,
    lines: main.lines,
    drive(variant, options = {}) {
      if (!options.shortTtl) return driveOn(main, variant);
      short ??= open({ DRIVERS_CHECKPOINT_TTL_MS: SHORT_CHECKPOINT_TTL_MS });
      return driveOn(short, variant);
    },
    async close() {
      await Promise.all([main.close(), short?.then((backend) => backend.close())]);
    },
  };
}

function driveOn(backend: Promise<Backend> | Backend, variant: WebVariant): HostedDriven {
  const input = startInput(variant);
  const states: AuthState[] = [];
  let lines: string[] = [];
  const waiters = new Set<() => void>();
  const wakeAll = () => [...waiters].forEach((wake) => wake());
  let failure: unknown;
  const ready = Promise.resolve(backend);
  const followed = (async () => {
    const { connector } = await ready;
    lines = (await ready).lines;
    const first = await connector.start(input, call(30_000));
    states.push(first);
    wakeAll();
    if (FINAL_AUTH_STATUSES.has(first.status)) return;
    for await (const event of connector.events(input.intentId, AbortSignal.timeout(60_000), capturedLogger().log)) {
      states.push(event.state);
      wakeAll();
    }
  })().catch((error: unknown) => {
    failure = error;
  });
  void followed.finally(wakeAll);
  const connector = async () => (await ready).connector;
  const driven: HostedDriven = {
    states,
    // The host's lines, read live: they keep growing.
    get lines() {
      return lines;
    },
    until(match) {
      const test = typeof match === "string" ? (state: AuthState) => state.status === match : match;
      return new Promise((resolve, reject) => {
        let ended = false;
        void followed.then(() => (ended = true));
        const check = () => {
          const found = states.find(test);
          if (found) {
            waiters.delete(check);
            resolve(found);
          } else if (ended || failure) {
            waiters.delete(check);
            reject(failure instanceof Error ? failure : new Error(`the login ended without the state: ${JSON.stringify(states.map((s) => [s.status, s.errorKind]))}`));
          }
        };
        waiters.add(check);
        void followed.then(check);
        check();
      });
    },
    solve: async (code) => (await connector()).solve(input.intentId, code, call()),
    resend: async () => (await connector()).resend(input.intentId, call()),
    cancel: async () => (await connector()).cancel(input.intentId, call()),
    current: async () => (await connector()).get(input.intentId, call()),
  };
  return driven;
}
