import type { ClientRequest } from "node:http";
import { connect as tlsConnect, createSecureContext } from "node:tls";
import { Agent, type AgentConnectOpts } from "agent-base";
import type { ProxyCredentials } from "../../../gen/postpress/credentials/v1/credentials_pb.js";
import { AppError } from "../../errors/app-error.ts";
import type { TargetGuard } from "../../net/target-guard.ts";
import { proxyEndpoint } from "./dispatcher.ts";
import { openTunnel, sniName, type ProxyEndpoint } from "./tunnel.ts";

/** A failure reaching or passing the account's proxy, as tunnel.ts names it (the one mapping of proxy errors). */
export type ProxyFailure = AppError & { kind: "proxy_error" | "proxy_auth_error" };

export function isProxyFailure(error: unknown): error is ProxyFailure {
  return error instanceof AppError && (error.kind === "proxy_error" || error.kind === "proxy_auth_error");
}

/**
 * An http.Agent (for WebSocket clients such as Baileys') whose connections go through the
 * account's proxy by the same tunnel as the web drivers' undici dispatcher (tunnel.ts): HTTP
 * CONNECT in clear or over TLS, or SOCKS5, host names resolved by the proxy. TLS to the
 * provider then runs over the tunnel with the system's roots.
 */
class TunnelAgent extends Agent {
  readonly #proxy: ProxyEndpoint;
  readonly #guard: TargetGuard;
  /** Built once per agent, not per socket: a context loads the system's roots. */
  readonly #trust = createSecureContext();
  constructor(proxy: ProxyEndpoint, guard: TargetGuard) {
    super();
    this.#proxy = proxy;
    this.#guard = guard;
  }

  override async connect(_req: ClientRequest, opts: AgentConnectOpts) {
    const host = opts.host ?? "localhost";
    const port = Number(opts.port) || (opts.secureEndpoint ? 443 : 80);
    let socket;
    try {
      socket = await openTunnel(this.#proxy, host, port, { trust: this.#trust, guard: this.#guard });
    } catch (error) {
      // Clients that sort socket errors by their code (Baileys does) must see a connection error.
      if (isProxyFailure(error)) Object.assign(error, { code: "EPROXY" });
      throw error;
    }
    if (!opts.secureEndpoint) return socket;
    return tlsConnect({ socket, servername: opts.servername ?? sniName(host), ALPNProtocols: opts.ALPNProtocols });
  }
}

/**
 * The agent a provider socket (a WebSocket) goes through for an account's proxy. Unset
 * protocol is HTTPS, as the API documents. Credentials never leave the endpoint object; the
 * agent is never logged. Failures reaching or passing the proxy are proxy_error / proxy_auth_error.
 */
export function proxyAgentFor(proxy: ProxyCredentials, guard: TargetGuard): Agent {
  const endpoint = proxyEndpoint(proxy);
  if (!endpoint) throw new AppError("invalid_parameters", { detail: "The proxy has no host." });
  return new TunnelAgent(endpoint, guard);
}
