import { createServer, connect, type Socket } from "node:net";
import type { AddressInfo } from "node:net";

/**
 * A loopback TCP proxy in front of PostgreSQL, so a test can take the database away from one
 * server without touching anyone else's connections.
 */
export interface TcpProxy {
  port: number;
  /** Drops every open connection and refuses new ones (closed at once) until restore(). */
  cut(): void;
  restore(): void;
  /** Kills the connection (both ways) the first time the client sends `pattern`, before it reaches the server. */
  killOn(pattern: string): void;
  /** Connections killed by killOn so far. */
  readonly kills: number;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const open = new Set<Socket>();
  let down = false;
  let trigger: string | undefined;
  let kills = 0;

  const server = createServer((client) => {
    if (down) {
      client.destroy();
      return;
    }
    const upstream = connect(target.port, target.host);
    open.add(client);
    open.add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on("error", drop).on("close", drop);
    upstream.on("error", drop).on("close", drop);
    // Keep the last bytes so a pattern split across two chunks is still seen.
    let tail = "";
    client.on("data", (chunk: Buffer) => {
      const seen = tail + chunk.toString("latin1");
      if (trigger !== undefined && seen.includes(trigger)) {
        trigger = undefined;
        kills++;
        drop();
        return;
      }
      tail = seen.slice(-256);
      if (!upstream.write(chunk)) client.pause();
    });
    upstream.on("drain", () => client.resume());
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));

  return {
    port: (server.address() as AddressInfo).port,
    cut() {
      down = true;
      for (const socket of open) socket.destroy();
      open.clear();
    },
    restore() {
      down = false;
    },
    killOn(pattern) {
      trigger = pattern;
    },
    get kills() {
      return kills;
    },
    async close() {
      for (const socket of open) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
