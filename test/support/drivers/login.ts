import type { Logger } from "pino";
import type { VariantCase, VariantOf } from "../../../src/domain/connectors/connector.ts";
import type { AuthState } from "../../../src/domain/connectors/interactive.ts";
import type { DriverLogin, ProviderDriver } from "../../../src/drivers/driver.ts";
import { capturedLogger } from "../logs.ts";

export interface ObservedLogin {
  login: DriverLogin;
  states: AuthState[];
  logs: string[];
  log: Logger;
  /** Resolves with the first reported state (from now or earlier) that matches. */
  until(match: (state: AuthState) => boolean): Promise<AuthState>;
}

/** Begins one login on a driver, recording every state it reports and every log line. */
export function observe<C extends VariantCase>(driver: ProviderDriver<C>, variant: VariantOf<C>, key = "int_test"): ObservedLogin {
  const { log, lines } = capturedLogger();
  const states: AuthState[] = [];
  const waiters = new Set<() => void>();
  const login = driver.begin({
    key,
    variant,
    shared: { country: "", ip: "" },
    log,
    onState: (state) => {
      states.push(state);
      for (const wake of [...waiters]) wake();
    },
  });
  return {
    login,
    states,
    logs: lines,
    log,
    until(match) {
      return new Promise((resolve) => {
        const check = () => {
          const found = states.find(match);
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
