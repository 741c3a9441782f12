import type { WebDriversConfig } from "../config.ts";
import type { SecureContext } from "node:tls";
import { createTrustStore } from "../domain/connectors/mail/tls.ts";
import type { TargetGuard } from "../net/target-guard.ts";
import type { DriverInput } from "./driver.ts";
import { WebSession, type WebClientOptions } from "./http/client.ts";
import type { LoginContext, RuntimeSettings } from "./login/runtime.ts";
import { proxyEndpoint } from "./proxy/dispatcher.ts";
import type { ProxyCredentials } from "../../gen/postpress/credentials/v1/credentials_pb.js";

/** What every web driver is built with: the configuration, the HTTP client's bounds and the login runtime's. */
export interface WebDriverEnv {
  config: WebDriversConfig;
  client: WebClientOptions;
  runtime: RuntimeSettings;
}

/** Largest provider answer read: a profile page or a login answer is far below it. */
const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;

export function webDriverEnv(config: WebDriversConfig, guard: TargetGuard): WebDriverEnv {
  // The trust store (hundreds of roots to parse, ~100 ms) is built on the first web login. The
  // operator's extra CAs need no check here: config.ts read and checked the file at start-up.
  let trust: SecureContext | undefined;
  return {
    config,
    client: {
      get trust() {
        return (trust ??= createTrustStore(config.extraCaPem, "drivers"));
      },
      requestTimeoutMs: config.requestTimeoutMs,
      maxResponseBytes: MAX_RESPONSE_BYTES,
      guard,
    },
    runtime: { checkpointTtlMs: config.checkpointTtlMs, approvalPollMs: config.approvalPollMs },
  };
}

export interface SessionOf {
  provider: string;
  proxy?: ProxyCredentials;
  userAgent: string;
  defaultUserAgent: string;
  headers?: Record<string, string>;
  cookies?: Record<string, string>;
}

/** Opens the login's web session (through the variant's proxy, with its user agent); it closes when the login ends. */
export function openSession(env: WebDriverEnv, input: DriverInput, context: LoginContext, of: SessionOf): WebSession {
  const session = new WebSession(env.client, {
    provider: of.provider,
    proxy: proxyEndpoint(of.proxy),
    userAgent: of.userAgent || of.defaultUserAgent,
    headers: of.headers,
    cookies: of.cookies,
    log: input.log,
    signal: context.signal,
  });
  context.onEnd(() => session.close());
  return session;
}
