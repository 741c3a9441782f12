import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { AccountService } from "../../gen/postpress/accounts/v1/account_service_pb.js";
import { EventService, type Event, type EventType } from "../../gen/postpress/accounts/v1/event_service_pb.js";
import { pino } from "pino";
import { loadConfig } from "../../src/config.ts";
import { HealthChecker } from "../../src/domain/events/health-checker.ts";
import { createTokenRefresher } from "../../src/domain/credentials/create-refresher.ts";
import type { TokenRefresher } from "../../src/domain/credentials/token-refresher.ts";
import type { Sealer } from "../../src/crypto/sealer.ts";
import type { Store } from "../../src/store/store.ts";
import { createConnectorRegistry, type AnyConnector } from "../../src/domain/connectors/registry.ts";
import type { Connector, ConnectorInput } from "../../src/domain/connectors/connector.ts";
import { AppError } from "../../src/errors/app-error.ts";
import type { ErrorKind } from "../../src/errors/catalogue.ts";
import { verifySignature } from "../../src/domain/events/signature.ts";
import type { TestServer } from "../support/server.ts";
import { webhookUrlRule } from "../../src/domain/events/webhook-target.ts";
import { parseNetworks } from "../../src/net/address-policy.ts";
import { LOOPBACK_NETWORKS, loopbackGuard } from "../support/loopback-guard.ts";

/** Clients of both services over Connect (a real HTTP port), authenticated as workspace alpha. */
export function clientsOf(server: TestServer, apiKey = server.apiKey): { accounts: Client<typeof AccountService>; events: Client<typeof EventService>; headers: Record<string, string> } {
  const transport = createConnectTransport({ baseUrl: server.httpUrl, httpVersion: "1.1", useBinaryFormat: true });
  return { accounts: createClient(AccountService, transport), events: createClient(EventService, transport), headers: { "x-api-key": apiKey } };
}

/** Links a LinkedIn account through the RPC; the connector decides who it is. */
export async function link(server: TestServer, username: string): Promise<string> {
  const { accounts, headers } = clientsOf(server);
  const response = await accounts.connectAccount({ variant: { case: "linkedinBasic", value: { username, password: "pw-secret-1" } } }, { headers });
  if (response.object !== "AccountCreated") throw new Error(`expected an account, got ${response.object}`);
  return response.accountId;
}

/** A StreamEvents call that keeps what arrives. */
export interface Follower {
  readonly events: Event[];
  /** Resolves once `count` events have arrived. */
  until(count: number, timeoutMs?: number): Promise<Event[]>;
  stop(): Promise<void>;
}

export function follow(server: TestServer, cursor = "", apiKey = server.apiKey): Follower {
  const { events: client, headers } = clientsOf(server, apiKey);
  const controller = new AbortController();
  const events: Event[] = [];
  let failure: unknown;
  const done = (async () => {
    try {
      for await (const message of client.streamEvents({ cursor }, { headers, signal: controller.signal })) events.push(message.event!);
    } catch (e) {
      if (!controller.signal.aborted) failure = e;
    }
  })();
  return {
    events,
    async until(count, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (events.length < count) {
        if (failure) throw failure;
        if (Date.now() > deadline) throw new Error(`waited for ${count} events, got ${events.length}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      return events.slice(0, count);
    },
    async stop() {
      controller.abort();
      await done;
    },
  };
}

/**
 * A one-shot LinkedIn connector for health checks: succeeds with the username as identity,
 * or fails with the error the test set for that username; counts the calls per username.
 */
export interface SwitchConnector extends Connector<"linkedinBasic"> {
  readonly calls: Map<string, number>;
  readonly failing: Map<string, ErrorKind>;
}

export function switchConnector(): SwitchConnector {
  const calls = new Map<string, number>();
  const failing = new Map<string, ErrorKind>();
  return {
    variants: ["linkedinBasic"],
    calls,
    failing,
    async connect({ variant }: ConnectorInput<"linkedinBasic">) {
      calls.set(variant.username, (calls.get(variant.username) ?? 0) + 1);
      const kind = failing.get(variant.username);
      if (kind) throw new AppError(kind);
      return { identity: { providerUserId: variant.username } };
    },
  };
}

/** A local webhook receiver: answers what `answer` says, keeps every request with whether its signature verified. */
export interface Receiver {
  url: string;
  readonly received: { eventId: string; body: Record<string, unknown>; signed: boolean; raw: string }[];
  /** The status code the next requests get (default 200). */
  answer: number;
  secret: string;
  /** The clock signatures are checked against (default: the real one). */
  now: () => Date;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const receiver: Omit<Receiver, "url" | "close"> = { received: [], answer: 200, secret: "", now: () => new Date() };
  const server: Server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks).toString("utf8");
      const signed = verifySignature(receiver.secret, raw, String(req.headers["postpress-signature"] ?? ""), receiver.now());
      receiver.received.push({ eventId: String(req.headers["postpress-event-id"]), body: JSON.parse(raw) as Record<string, unknown>, signed, raw });
      res.writeHead(receiver.answer).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return Object.assign(receiver, {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}

/** Waits until `predicate` holds, checking every 20 ms (no fixed sleeps racing the work). */
export async function eventually(predicate: () => boolean | Promise<boolean>, timeoutMs = 20_000, what = "condition"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The webhook URL rule of a server whose PROVIDER_ALLOWED_NETWORKS is loopback (where the test receivers listen). */
export const loopbackUrlRule = webhookUrlRule(loopbackGuard, parseNetworks(LOOPBACK_NETWORKS));

/** Settings for tests that drive health checks and deliveries themselves (no background loops, everything due at once). */
export const DRIVEN_ENV = {
  ACCOUNT_CHECK_POLL_MS: "0",
  ACCOUNT_CHECK_INTERVAL_MS: "1",
  ACCOUNT_CHECK_JITTER_PERCENT: "0",
  EVENTS_POLL_MS: "50",
  WEBHOOK_POLL_MS: "50",
  PROVIDER_ALLOWED_NETWORKS: LOOPBACK_NETWORKS,
} as const;

/**
 * A health checker over the test server's store, driven round by round by the test. `env`
 * also holds the fake providers' GOOGLE_* / MICROSOFT_* settings its refresher uses. Like a
 * second replica, it has a refresher of its own: only the store's lock is shared with the server's.
 */
export function checkerFor(server: TestServer, connectors: AnyConnector[], env: Record<string, string> = DRIVEN_ENV): HealthChecker {
  return new HealthChecker({
    store: server.store,
    sealer: server.sealer,
    connectors: createConnectorRegistry(connectors),
    refresher: refresherFor(server.store, server.sealer, env),
    settings: loadConfig({ ...DRIVEN_ENV, ...env }).healthChecks,
    log: pino({ level: "silent" }),
  });
}

/** A refresher of stored OAuth tokens as a server builds one, at the token endpoints `env` names (loopback allowed). */
export function refresherFor(store: Store, sealer: Sealer, env: Record<string, string> = {}): TokenRefresher {
  return createTokenRefresher(loadConfig({ ...DRIVEN_ENV, ...env }), { store, sealer, guard: loopbackGuard, log: pino({ level: "silent" }), now: () => new Date() });
}

/** One round of checks once the clock has moved past every due time (1 ms intervals). */
export async function round(checker: HealthChecker): Promise<number> {
  await new Promise((r) => setTimeout(r, 5));
  return checker.runRound();
}

/** Registers the receiver as an endpoint of workspace alpha; it verifies signatures with the secret shown once. */
export async function register(server: TestServer, receiver: Receiver, eventTypes: EventType[] = []): Promise<string> {
  const { events, headers } = clientsOf(server);
  const created = await events.createWebhookEndpoint({ url: receiver.url, eventTypes }, { headers });
  receiver.secret = created.signingSecret;
  return created.endpoint!.id;
}
