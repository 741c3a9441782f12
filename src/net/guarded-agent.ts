import { Agent, buildConnector } from "undici";
import type { TargetGuard } from "./target-guard.ts";

/**
 * An HTTP(S) dispatcher for undici's fetch whose every connection passes the guard: the
 * URL's host is resolved and checked once, the checked address is dialled, and TLS still
 * verifies the certificate against the URL's name. A refusal fails the fetch with the
 * guard's error as its cause.
 */
export function guardedAgent(guard: TargetGuard, field: string): Agent {
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
