import { isIP, connect as netConnect, type Socket } from "node:net";
import { connect as tlsConnect, type SecureContext } from "node:tls";
import { AppError, isAppError } from "../../errors/app-error.ts";
import { ipv6Bytes } from "../../net/address-policy.ts";
import type { TargetGuard } from "../../net/target-guard.ts";

/** Where a driver's traffic goes first: the account's proxy, as the request gave it. */
export interface ProxyEndpoint {
  protocol: "http" | "https" | "socks5";
  host: string;
  port: number;
  username?: string;
  password?: string;
}

export interface TunnelOptions {
  /** Trust for a proxy reached over TLS ("https"). */
  trust: SecureContext;
  /** The proxy's host must pass it (errors/target_not_allowed naming proxy.host). */
  guard: TargetGuard;
  /** Aborts the tunnel while it is being built. */
  signal?: AbortSignal;
}

/**
 * Opens a raw TCP stream to host:port through the proxy: HTTP CONNECT (in clear or over
 * TLS) or SOCKS5 (RFC 1928, user/password RFC 1929). Failures are proxy_error (the proxy is
 * unreachable or refuses the target) or proxy_auth_error (it rejects our credentials, or
 * wants some we lack); none names the proxy's password.
 */
export async function openTunnel(proxy: ProxyEndpoint, host: string, port: number, options: TunnelOptions): Promise<Socket> {
  const socket = await reachProxy(proxy, options);
  const onAbort = () => socket.destroy(options.signal?.reason instanceof Error ? options.signal.reason : new Error("aborted"));
  options.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    const reader = new SocketReader(socket);
    if (proxy.protocol === "socks5") await socks5Handshake(reader, socket, proxy, host, port);
    else await httpConnect(reader, socket, proxy, host, port);
    reader.release();
    return socket;
  } catch (e) {
    socket.destroy();
    throw e;
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
  }
}

/** The field of the request that names the proxy, as errors report it. */
const PROXY_FIELD = "proxy.host";

async function reachProxy(proxy: ProxyEndpoint, options: TunnelOptions): Promise<Socket> {
  // The checked address is dialled; the name still verifies an https proxy's certificate.
  const target = await options.guard.resolve(proxy.host, PROXY_FIELD).catch((e: unknown) => {
    throw isAppError(e) ? e : proxyError(proxy, "proxy_unreachable", e instanceof Error ? e : undefined);
  });
  return new Promise((resolve, reject) => {
    const secure = proxy.protocol === "https";
    const socket = secure
      ? tlsConnect({ host: target.address, port: proxy.port, secureContext: options.trust, servername: target.servername, rejectUnauthorized: true })
      : netConnect({ host: target.address, port: proxy.port });
    const fail = (e: Error) => reject(proxyError(proxy, "proxy_unreachable", e));
    socket.once("error", fail);
    socket.once(secure ? "secureConnect" : "connect", () => {
      socket.off("error", fail);
      resolve(socket);
    });
  });
}

async function httpConnect(reader: SocketReader, socket: Socket, proxy: ProxyEndpoint, host: string, port: number): Promise<void> {
  const target = `${host.includes(":") ? `[${host}]` : host}:${port}`;
  const lines = [`CONNECT ${target} HTTP/1.1`, `Host: ${target}`];
  if (proxy.username || proxy.password) {
    lines.push(`Proxy-Authorization: Basic ${Buffer.from(`${proxy.username ?? ""}:${proxy.password ?? ""}`).toString("base64")}`);
  }
  socket.write(lines.join("\r\n") + "\r\n\r\n");
  const head = await reader.readUntil("\r\n\r\n", 16 * 1024, proxy);
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1]);
  if (status >= 200 && status < 300) return;
  if (status === 407) throw proxyAuthError(proxy, "proxy_rejected_credentials");
  throw proxyError(proxy, Number.isNaN(status) ? "proxy_bad_answer" : `proxy_status_${status}`);
}

async function socks5Handshake(reader: SocketReader, socket: Socket, proxy: ProxyEndpoint, host: string, port: number): Promise<void> {
  const withCredentials = Boolean(proxy.username || proxy.password);
  // Greeting: offer "no authentication", and user/password when we have credentials.
  socket.write(Buffer.from(withCredentials ? [5, 2, 0, 2] : [5, 1, 0]));
  const [version, method] = await reader.read(2, proxy);
  if (version !== 5) throw proxyError(proxy, "proxy_bad_answer");
  if (method === 0xff) throw proxyAuthError(proxy, withCredentials ? "proxy_rejected_credentials" : "proxy_requires_credentials");
  if (method === 2) {
    if (!withCredentials) throw proxyAuthError(proxy, "proxy_requires_credentials");
    const user = Buffer.from(proxy.username ?? "");
    const pass = Buffer.from(proxy.password ?? "");
    if (user.length > 255 || pass.length > 255) throw proxyAuthError(proxy, "proxy_credentials_too_long");
    socket.write(Buffer.concat([Buffer.from([1, user.length]), user, Buffer.from([pass.length]), pass]));
    const [, status] = await reader.read(2, proxy);
    if (status !== 0) throw proxyAuthError(proxy, "proxy_rejected_credentials");
  } else if (method !== 0) {
    throw proxyError(proxy, "proxy_bad_answer");
  }
  // CONNECT by domain name (the proxy resolves it) or by IP address.
  const name = Buffer.from(host);
  const family = isIP(host);
  const address =
    family === 6 ? Buffer.from([4, ...ipv6Bytes(host)])
    : family === 4 ? Buffer.from([1, ...host.split(".").map(Number)])
    : Buffer.concat([Buffer.from([3, name.length]), name]);
  socket.write(Buffer.concat([Buffer.from([5, 1, 0]), address, Buffer.from([port >> 8, port & 0xff])]));
  const [, reply, , type] = await reader.read(4, proxy);
  if (reply !== 0) throw proxyError(proxy, `proxy_socks_reply_${reply}`);
  // Skip the bound address the proxy reports: we never use it.
  const rest = type === 1 ? 4 : type === 4 ? 16 : ((await reader.read(1, proxy))[0] ?? 0);
  await reader.read(rest + 2, proxy);
}

/** Reads a socket's first bytes by hand, then gives it back untouched for TLS. */
class SocketReader {
  private buffer = Buffer.alloc(0);
  private waiter: (() => void) | undefined;
  private failure: Error | undefined;
  private readonly onData = (chunk: Buffer) => {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    this.waiter?.();
  };
  private readonly onEnd = (e?: Error) => {
    this.failure = e instanceof Error ? e : new Error("the proxy closed the connection");
    this.waiter?.();
  };

  private readonly socket: Socket;

  constructor(socket: Socket) {
    this.socket = socket;
    socket.on("data", this.onData);
    socket.on("error", this.onEnd);
    socket.on("close", this.onEnd);
  }

  async read(size: number, proxy: ProxyEndpoint): Promise<Buffer> {
    while (this.buffer.length < size) await this.more(proxy);
    const out = this.buffer.subarray(0, size);
    this.buffer = this.buffer.subarray(size);
    return out;
  }

  async readUntil(marker: string, limit: number, proxy: ProxyEndpoint): Promise<string> {
    for (;;) {
      const at = this.buffer.indexOf(marker);
      if (at >= 0) {
        const head = this.buffer.subarray(0, at).toString("latin1");
        this.buffer = this.buffer.subarray(at + marker.length);
        return head;
      }
      if (this.buffer.length > limit) throw proxyError(proxy, "proxy_bad_answer");
      await this.more(proxy);
    }
  }

  /** Stops listening; the proxy must not have sent past its handshake. */
  release(): void {
    this.socket.off("data", this.onData);
    this.socket.off("error", this.onEnd);
    this.socket.off("close", this.onEnd);
    this.socket.pause();
    if (this.buffer.length > 0) this.socket.unshift(this.buffer);
  }

  private more(proxy: ProxyEndpoint): Promise<void> {
    if (this.failure) return Promise.reject(proxyError(proxy, "proxy_closed", this.failure));
    return new Promise<void>((resolve) => {
      this.waiter = () => {
        this.waiter = undefined;
        resolve();
      };
    }).then(() => {
      if (this.failure && this.buffer.length === 0) throw proxyError(proxy, "proxy_closed", this.failure);
    });
  }
}

function proxyError(proxy: ProxyEndpoint, cause: string, error?: Error): AppError {
  return new AppError("proxy_error", {
    detail: `The ${proxy.protocol} proxy ${proxy.host}:${proxy.port} failed (${cause}).`,
    metadata: { proxyHost: proxy.host, proxyPort: String(proxy.port), proxyProtocol: proxy.protocol, cause },
    cause: error,
  });
}

function proxyAuthError(proxy: ProxyEndpoint, cause: string): AppError {
  return new AppError("proxy_auth_error", {
    detail: `The ${proxy.protocol} proxy ${proxy.host}:${proxy.port} refused our credentials (${cause}).`,
    metadata: { proxyHost: proxy.host, proxyPort: String(proxy.port), proxyProtocol: proxy.protocol, cause },
  });
}

/** The name a TLS client sends as SNI for `host`: none for an IP literal (SNI carries names only). */
export function sniName(host: string): string | undefined {
  return /^[\d.]+$|:/.test(host) ? undefined : host;
}
