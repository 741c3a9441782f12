import { once } from "node:events";
import { createServer as createHttpServer, type IncomingMessage } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { connect, type AddressInfo, type Socket } from "node:net";
import type { ServerCertificate } from "../mail/pki.ts";

/**
 * An HTTP CONNECT proxy on 127.0.0.1 (in clear, or over TLS with a test certificate), with
 * optional Basic credentials. It records every tunnel it opened, so a test can show that a
 * driver's traffic went through it.
 */
export interface TestProxy {
  host: string;
  port: number;
  /** host:port of every tunnel opened, in order. */
  tunnels: string[];
  /** Proxy-Authorization headers refused. */
  refused: number;
  close(): Promise<void>;
}

export async function startConnectProxy(options: { credentials?: { username: string; password: string }; tls?: ServerCertificate } = {}): Promise<TestProxy> {
  const tunnels: string[] = [];
  const sockets = new Set<Socket>();
  let refused = 0;
  const server = options.tls ? createHttpsServer({ cert: options.tls.cert, key: options.tls.key }) : createHttpServer();
  server.on("connection", (s: Socket) => {
    sockets.add(s);
    s.once("close", () => sockets.delete(s));
  });
  server.on("connect", (req: IncomingMessage, client: Socket, head: Buffer) => {
    if (options.credentials) {
      const expected = `Basic ${Buffer.from(`${options.credentials.username}:${options.credentials.password}`).toString("base64")}`;
      if (req.headers["proxy-authorization"] !== expected) {
        refused++;
        client.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test"\r\nContent-Length: 0\r\n\r\n');
        return;
      }
    }
    const [host = "", port = "0"] = (req.url ?? "").split(/:(?=\d+$)/);
    const upstream = connect({ host: host.replace(/^\[|\]$/g, ""), port: Number(port) });
    sockets.add(upstream);
    upstream.once("close", () => sockets.delete(upstream));
    upstream.once("connect", () => {
      tunnels.push(req.url ?? "");
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      if (head.length) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.once("error", () => client.end("HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n"));
    client.once("error", () => upstream.destroy());
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return {
    host: "127.0.0.1",
    port,
    tunnels,
    get refused() {
      return refused;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
