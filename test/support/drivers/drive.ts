import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Logger } from "pino";
import { expect } from "vitest";
import { loadConfig } from "../../../src/config.ts";
import type { VariantCase, VariantOf } from "../../../src/domain/connectors/connector.ts";
import { FINAL_AUTH_STATUSES, type AuthState, type AuthStatus } from "../../../src/domain/connectors/interactive.ts";
import type { DriverLogin, ProviderDriver } from "../../../src/drivers/driver.ts";
import { webDriverEnv, type WebDriverEnv } from "../../../src/drivers/web-env.ts";
import { createTargetGuard } from "../../../src/net/target-guard.ts";
import { LOOPBACK_NETWORKS } from "../loopback-guard.ts";
import { capturedLogger } from "../logs.ts";
import { createTestPki, type TestPki } from "../mail/pki.ts";

/**
 * Drives a ProviderDriver the way a host does, through DriverLogin only: begin, follow
 * its states, solve, resend, cancel. Keeps every state and log line for the leak checks.
 */
export interface Driven {
  login: DriverLogin;
  states: AuthState[];
  lines: string[];
  /** The login's logger (for what a test runs after the login, e.g. reopening its session). */
  log: Logger;
  /** The first state with this status, or matching this test (already seen, or the next one). */
  until(match: AuthStatus | ((state: AuthState) => boolean)): Promise<AuthState>;
}

export function drive<C extends VariantCase>(driver: ProviderDriver<C>, variant: VariantOf<C>, key = "int_test"): Driven {
  const { log, lines } = capturedLogger();
  const states: AuthState[] = [];
  const waiters = new Set<() => void>();
  const login = driver.begin({
    key,
    variant,
    shared: { country: "", ip: "" },
    log: log.child({ intentId: key }),
    onState(state) {
      states.push(state);
      for (const wake of [...waiters]) wake();
    },
  });
  return {
    login,
    states,
    lines,
    log,
    until(match) {
      const test = typeof match === "string" ? (state: AuthState) => state.status === match : match;
      return new Promise((resolve) => {
        const check = () => {
          const found = states.find(test);
          if (!found) return;
          waiters.delete(check);
          resolve(found);
        };
        waiters.add(check);
        check();
      });
    },
  };
}

/** The final state, whichever it is. */
export async function settled(driven: Pick<Driven, "until">): Promise<AuthState> {
  return driven.until((state) => FINAL_AUTH_STATUSES.has(state.status));
}

/** No planted secret in any log line, in any state (the CONNECTED session aside: it is the credential), nor in `extra` (errors). */
export function expectNoSecrets(driven: Pick<Driven, "lines" | "states">, secrets: string[], extra: unknown[] = []): void {
  const states = driven.states.map(({ session: _session, ...rest }) => rest);
  const text = [...driven.lines, JSON.stringify(states), ...extra.map((e) => (e instanceof Error ? `${e.message} ${JSON.stringify(e)}` : JSON.stringify(e)))].join("\n");
  for (const secret of secrets) expect(text, `secret ${secret.slice(0, 4)}… leaked`).not.toContain(secret);
}

/** A throwaway CA and the drivers' environment pointed at local fakes. */
export interface DriverLab {
  pki: TestPki;
  /** The environment variables pointing the drivers at the fakes (for a process: the gateway's). */
  vars(vars: Record<string, string>): Record<string, string>;
  env(vars: Record<string, string>): WebDriverEnv;
  close(): Promise<void>;
}

export async function createDriverLab(): Promise<DriverLab> {
  const dir = await mkdtemp(join(tmpdir(), "drivers-pki-"));
  const pki = await createTestPki(dir);
  // The test CA reaches the drivers the way an operator's does: DRIVERS_EXTRA_CA_FILE; the
  // fakes and proxies on loopback are allowed the same way: PROVIDER_ALLOWED_NETWORKS.
  const vars = (extra: Record<string, string>) => ({
    PROVIDER_ALLOWED_NETWORKS: LOOPBACK_NETWORKS,
    DRIVERS_EXTRA_CA_FILE: join(dir, "test-ca.crt"),
    DRIVERS_CHECKPOINT_TTL_MS: "60000",
    DRIVERS_APPROVAL_POLL_MS: "20",
    DRIVERS_REQUEST_TIMEOUT_MS: "5000",
    TWITTER_FLOW_STEP_DELAY_MS: "0",
    ...extra,
  });
  return {
    pki,
    vars,
    env(extra) {
      const config = loadConfig(vars(extra));
      return webDriverEnv(config.webDrivers, createTargetGuard({ allowed: config.providers.allowedNetworks }));
    },
    close: () => rm(dir, { recursive: true, force: true }),
  };
}
