import { once } from "node:events";
import { connect, createServer, type AddressInfo, type Socket } from "node:net";
import type { TestProxy } from "./connect-proxy.ts";

/**
 * A SOCKS5 proxy (RFC 1928) on 127.0.0.1, with optional user/password (RFC 1929). It
 * records every tunnel it opened.
 */
export async function startSocks5Proxy(options: { credentials?: { username: string; password: string } } = {}): Promise<TestProxy> {
  const tunnels: string[] = [];
  const sockets = new Set<Socket>();
  let refused = 0;
  const server = createServer((client) => {
    sockets.add(client);
    client.once("close", () => sockets.delete(client));
    client.on("error", () => client.destroy());
    let buffer = Buffer.alloc(0);
    let step: "greeting" | "auth" | "request" = "greeting";
    const onData = (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (step === "greeting") {
        if (buffer.length < 2 || buffer.length < 2 + buffer[1]!) return;
        const methods = [...buffer.subarray(2, 2 + buffer[1]!)];
        buffer = buffer.subarray(2 + buffer[1]!);
        const wanted = options.credentials ? 2 : 0;
        if (!methods.includes(wanted)) {
          refused++;
          client.end(Buffer.from([5, 0xff]));
          return;
        }
        client.write(Buffer.from([5, wanted]));
        step = options.credentials ? "auth" : "request";
      }
      if (step === "auth") {
        if (buffer.length < 2) return;
        const ulen = buffer[1]!;
        if (buffer.length < 3 + ulen) return;
        const plen = buffer[2 + ulen]!;
        if (buffer.length < 3 + ulen + plen) return;
        const user = buffer.subarray(2, 2 + ulen).toString();
        const pass = buffer.subarray(3 + ulen, 3 + ulen + plen).toString();
        buffer = buffer.subarray(3 + ulen + plen);
        if (user !== options.credentials!.username || pass !== options.credentials!.password) {
          refused++;
          client.end(Buffer.from([1, 1]));
          return;
        }
        client.write(Buffer.from([1, 0]));
        step = "request";
      }
      if (step === "request") {
        if (buffer.length < 5) return;
        const type = buffer[3]!;
        const addressLength = type === 1 ? 4 : type === 4 ? 16 : 1 + buffer[4]!;
        if (buffer.length < 4 + addressLength + 2) return;
        const host = type === 1 ? [...buffer.subarray(4, 8)].join(".") : type === 3 ? buffer.subarray(5, 5 + buffer[4]!).toString() : "::1";
        const port = buffer.readUInt16BE(4 + addressLength);
        const rest = buffer.subarray(4 + addressLength + 2);
        client.off("data", onData);
        const upstream = connect({ host, port });
        sockets.add(upstream);
        upstream.once("close", () => sockets.delete(upstream));
        upstream.once("connect", () => {
          tunnels.push(`${host}:${port}`);
          client.write(Buffer.from([5, 0, 0, 1, 127, 0, 0, 1, 0, 0]));
          if (rest.length) upstream.write(rest);
          upstream.pipe(client);
          client.pipe(upstream);
        });
        upstream.once("error", () => client.end(Buffer.from([5, 5, 0, 1, 0, 0, 0, 0, 0, 0])));
      }
    };
    client.on("data", onData);
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
