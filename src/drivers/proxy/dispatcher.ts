import { connect as netConnect, type Socket } from "node:net";
import { connect as tlsConnect, type SecureContext } from "node:tls";
import type { Dispatcher } from "undici";
import { undici } from "../../net/undici.ts";
import type { TargetGuard } from "../../net/target-guard.ts";
import { ProxyType, type ProxyCredentials } from "../../../gen/postpress/credentials/v1/credentials_pb.js";
import { openTunnel, sniName, type ProxyEndpoint } from "./tunnel.ts";

export interface DispatcherOptions {
  /** Roots the provider's (and an https proxy's) certificate must chain to. */
  trust: SecureContext;
  /** Bounds reaching the provider, proxy handshake included. */
  connectTimeoutMs: number;
  /** Which addresses the provider (dialled directly) and the account's proxy may resolve to. */
  guard: TargetGuard;
}

/**
 * The undici dispatcher (fetch's counterpart of an http.Agent) every request of one web
 * login goes through: straight to the provider, or
 * through the account's proxy (HTTP CONNECT in clear or over TLS, or SOCKS5) when it has
 * one. TLS to the provider is always verified against `trust`, also inside a tunnel. The
 * host dialled (the proxy, else the provider) passes the target guard first: a proxy named
 * by the caller must not reach inside our network. Through a proxy, the provider's name is
 * the proxy's to resolve. The caller closes the agent when the login ends.
 */
export function proxyDispatcherFor(proxy: ProxyEndpoint | undefined, options: DispatcherOptions): Dispatcher & { close(): Promise<void> } {
  const { Agent } = undici();
  return new Agent({
    connect(opts, callback) {
      const port = Number(opts.port) || (opts.protocol === "https:" ? 443 : 80);
      const timeout = AbortSignal.timeout(options.connectTimeoutMs);
      const raw = proxy
        ? openTunnel(proxy, opts.hostname, port, { trust: options.trust, guard: options.guard, signal: timeout })
        : options.guard.resolve(opts.hostname, PROVIDER_FIELD).then((target) => direct(target.address, port, timeout));
      raw
        .then((socket) => (opts.protocol === "https:" ? startTls(socket, opts.servername || opts.hostname, options.trust, timeout) : socket))
        .then(
          (socket) => callback(null, socket),
          (e: unknown) => callback(e instanceof Error ? e : new Error(String(e)), null),
        );
    },
  });
}

/** A refused provider host is the operator's base URL setting (LINKEDIN_BASE_URL, ...): a misconfiguration. */
const PROVIDER_FIELD = "provider_url";

/** The request's proxy as the tunnel takes it; an unset protocol means HTTPS, as the API documents. */
export function proxyEndpoint(proxy: ProxyCredentials | undefined): ProxyEndpoint | undefined {
  if (!proxy || !proxy.host) return undefined;
  const protocol = proxy.type === ProxyType.HTTP ? "http" : proxy.type === ProxyType.SOCKS5 ? "socks5" : "https";
  return { protocol, host: proxy.host, port: proxy.port, username: proxy.username || undefined, password: proxy.password || undefined };
}

function direct(host: string, port: number, signal: AbortSignal): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host, port });
    const onAbort = () => socket.destroy(Object.assign(new Error(`connect to ${host}:${port} timed out`), { code: "UND_ERR_CONNECT_TIMEOUT" }));
    signal.addEventListener("abort", onAbort, { once: true });
    socket.once("error", (e) => {
      signal.removeEventListener("abort", onAbort);
      reject(e);
    });
    socket.once("connect", () => {
      signal.removeEventListener("abort", onAbort);
      resolve(socket);
    });
  });
}

function startTls(socket: Socket, servername: string, trust: SecureContext, signal: AbortSignal): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const secure = tlsConnect({
      socket,
      servername: sniName(servername),
      host: servername,
      secureContext: trust,
      rejectUnauthorized: true,
      minVersion: "TLSv1.2",
      ALPNProtocols: ["http/1.1"],
    });
    const onAbort = () => secure.destroy(Object.assign(new Error("TLS handshake timed out"), { code: "UND_ERR_CONNECT_TIMEOUT" }));
    signal.addEventListener("abort", onAbort, { once: true });
    secure.once("error", (e) => {
      signal.removeEventListener("abort", onAbort);
      reject(e);
    });
    secure.once("secureConnect", () => {
      signal.removeEventListener("abort", onAbort);
      resolve(secure);
    });
  });
}
