import type { Agent, ClientRequest } from "node:http";
import type { Socket } from "node:net";
import { HttpsProxyAgent } from "https-proxy-agent";
import { SocksProxyAgent } from "socks-proxy-agent";
import { ProxyProtocol, type Proxy } from "../../../gen/postpress/accounts/v1/options_pb.js";

/**
 * Why a connection through the account's proxy failed, as the catalogue names it. Thrown by
 * the agent in place of the libraries' own errors; `code` starts with "E" so that clients
 * which sort socket errors by their code (Baileys does) see a connection error.
 */
export class ProxyFailure extends Error {
  readonly kind: "proxy_error" | "proxy_auth_error";
  readonly code = "EPROXY";
  constructor(kind: ProxyFailure["kind"], detail: string) {
    super(detail);
    this.name = "ProxyFailure";
    this.kind = kind;
  }
}

type ConnectOptions = Parameters<HttpsProxyAgent<string>["connect"]>[1];

/**
 * HTTP CONNECT that fails loudly: https-proxy-agent answers a refused CONNECT (407, 403, 502)
 * with a fake socket replaying the proxy's response, which a WebSocket client never reads as
 * a failure (Baileys waits forever). Here it is an error naming the cause.
 */
class StrictHttpsProxyAgent extends HttpsProxyAgent<string> {
  override async connect(req: ClientRequest, opts: ConnectOptions): Promise<Socket> {
    let status = 0;
    req.once("proxyConnect", (connect: { statusCode: number }) => (status = connect.statusCode));
    let socket: Socket;
    try {
      socket = await super.connect(req, opts);
    } catch (error) {
      throw new ProxyFailure("proxy_error", `the proxy could not be reached (${(error as NodeJS.ErrnoException).code ?? "connection failed"})`);
    }
    if (status === 200) return socket;
    socket.destroy();
    if (status === 407) throw new ProxyFailure("proxy_auth_error", "the proxy refused the credentials (407)");
    throw new ProxyFailure("proxy_error", `the proxy refused the tunnel (${status})`);
  }
}

class StrictSocksProxyAgent extends SocksProxyAgent {
  override async connect(req: ClientRequest, opts: ConnectOptions): Promise<Socket> {
    try {
      return await super.connect(req, opts);
    } catch (error) {
      const message = error instanceof Error ? error.message : "";
      if (/authentication failed|no accepted authentication/i.test(message)) throw new ProxyFailure("proxy_auth_error", "the SOCKS5 proxy refused the credentials");
      throw new ProxyFailure("proxy_error", `the SOCKS5 proxy failed (${(error as NodeJS.ErrnoException).code ?? message.slice(0, 80)})`);
    }
  }
}

/**
 * The agent a provider socket (a WebSocket, an HTTPS request) goes through for an account's
 * proxy: HTTP CONNECT in clear or over TLS, or SOCKS5 (host names resolved by the proxy).
 * Unset protocol is HTTPS, as the API documents. Credentials travel inside the proxy URL
 * only; the agent is never logged. Failures reaching or passing the proxy are ProxyFailure.
 */
export function proxyAgentFor(proxy: Proxy): Agent {
  const auth = proxy.username || proxy.password ? `${encodeURIComponent(proxy.username)}:${encodeURIComponent(proxy.password)}@` : "";
  const host = proxy.host.includes(":") ? `[${proxy.host}]` : proxy.host;
  switch (proxy.protocol) {
    case ProxyProtocol.SOCKS5:
      return new StrictSocksProxyAgent(`socks5h://${auth}${host}:${proxy.port}`);
    case ProxyProtocol.HTTP:
      return new StrictHttpsProxyAgent(`http://${auth}${host}:${proxy.port}`);
    default:
      return new StrictHttpsProxyAgent(`https://${auth}${host}:${proxy.port}`);
  }
}
