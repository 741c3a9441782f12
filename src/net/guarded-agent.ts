import type { Agent, fetch as undiciFetch } from "undici";
import type { TargetGuard } from "./target-guard.ts";
import { undici } from "./undici.ts";

/** undici's fetch, every request of it through one guarded dispatcher. */
export interface GuardedFetch {
  fetch(url: Parameters<typeof undiciFetch>[0], init: Omit<NonNullable<Parameters<typeof undiciFetch>[1]>, "dispatcher">): ReturnType<typeof undiciFetch>;
  /** Closes the dispatcher's connections (none if nothing was ever fetched). */
  close(): Promise<void>;
}

/** A fetch whose every connection passes the guard (see guardedAgent); undici is loaded on the first request. */
export function guardedFetch(guard: TargetGuard, field: string): GuardedFetch {
  let agent: Agent | undefined;
  return {
    fetch(url, init) {
      agent ??= guardedAgent(guard, field);
      return undici().fetch(url, { ...init, dispatcher: agent });
    },
    async close() {
      await agent?.close();
    },
  };
}

/**
 * An HTTP(S) dispatcher for undici's fetch whose every connection passes the guard: the
 * URL's host is resolved and checked once, the checked address is dialled, and TLS still
 * verifies the certificate against the URL's name. A refusal fails the fetch with the
 * guard's error as its cause.
 */
function guardedAgent(guard: TargetGuard, field: string): Agent {
  const { Agent, buildConnector } = undici();
  const connect = buildConnector({});
  return new Agent({
    connect(options, callback) {
      guard.resolve(options.hostname, field).then(
        (target) => connect({ ...options, hostname: target.address, servername: options.servername ?? target.servername }, callback),
        (error: Error) => callback(error, null),
      );
    },
  });
}
