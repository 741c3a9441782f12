import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { ConnectAccountRequestSchema } from "../../../gen/postpress/accounts/v1/account_service_pb.js";
import { createGatewayConnector } from "../../../src/domain/connectors/gateway/gateway-connector.ts";
import type { AuthEvent, InteractiveCall, InteractiveConnector } from "../../../src/domain/connectors/interactive.ts";
import type { ProviderDriver } from "../../../src/drivers/driver.ts";
import { createDriverHost, type DriverHost } from "../../../src/drivers/host/host.ts";
import { startGatewayServer, type GatewayServer } from "../../../src/gateway/server.ts";
import { capturedLogger } from "../logs.ts";

export const HOSTS = ["in-process", "gateway"] as const;
export type HostKind = (typeof HOSTS)[number];

export interface HostUnderTest {
  /** What the intent engine would be given: the host itself, or a gateway connector to it over a real port. */
  connector: InteractiveConnector;
  host: DriverHost;
  gateway?: GatewayServer;
  logs: string[];
  close(): Promise<void>;
}

/** The driver host in process, or served by the gateway server on a real port and reached through the gateway connector. */
export async function startHost(kind: HostKind, drivers: ProviderDriver[], options: { maxPendingSessions?: number; sessionTtlMs?: number } = {}): Promise<HostUnderTest> {
  const { log, lines } = capturedLogger();
  const host = createDriverHost({ drivers, log, maxPendingSessions: options.maxPendingSessions ?? 50, sessionTtlMs: options.sessionTtlMs ?? 60_000 });
  if (kind === "in-process") return { connector: host, host, logs: lines, close: () => host.close() };
  const gateway = await startGatewayServer({ connector: host, host: "127.0.0.1", port: 0, log });
  const connector = createGatewayConnector({ provider: "DRIVERS", address: gateway.address, variants: host.variants });
  return {
    connector,
    host,
    gateway,
    logs: lines,
    async close() {
      connector.close();
      await host.close();
      await gateway.close();
    },
  };
}

export function call(ms = 10_000): InteractiveCall {
  return { signal: AbortSignal.timeout(ms), deadline: new Date(Date.now() + ms), log: capturedLogger().log };
}

let seq = 0;
export function startInput(variant: MessageInitShape<typeof ConnectAccountRequestSchema>["variant"]) {
  seq++;
  return { intentId: `int_${Date.now()}_${seq}`, workspaceId: "ws_test", accountId: `acc_${seq}`, request: create(ConnectAccountRequestSchema, { variant }) };
}

/** Follows an intent's events in the background; `until` resolves with the first event that matches. */
export function follow(connector: InteractiveConnector, key: string): { events: AuthEvent[]; done: Promise<AuthEvent[]>; until(match: (event: AuthEvent) => boolean): Promise<AuthEvent> } {
  const events: AuthEvent[] = [];
  const waiters = new Set<() => void>();
  const done = (async () => {
    for await (const event of connector.events(key, AbortSignal.timeout(30_000), capturedLogger().log)) {
      events.push(event);
      for (const wake of [...waiters]) wake();
    }
    return events;
  })();
  return {
    events,
    done,
    until(match) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = events.find(match);
          if (!found) return;
          waiters.delete(check);
          resolve(found);
        };
        waiters.add(check);
        check();
        done.then(() => waiters.has(check) && reject(new Error(`the stream ended without the event: ${JSON.stringify(events.map((e) => e.kind))}`)), reject);
      });
    },
  };
}
