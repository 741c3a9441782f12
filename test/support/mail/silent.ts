import { createServer, type Socket } from "node:net";
import type { HostPort } from "./net.ts";

export interface SilentServer {
  address: HostPort;
  connections(): Promise<number>;
  stop(): Promise<void>;
}

/** Accepts TCP connections and never says a word: the server that only a deadline can end. */
export async function startSilentServer(): Promise<SilentServer> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    // Read (and drop) what arrives: a paused socket would never notice the client's FIN.
    socket.resume();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no TCP address");
  return {
    address: { host: "127.0.0.1", port: address.port },
    connections: () =>
      new Promise((resolve, reject) => server.getConnections((error, count) => (error ? reject(error) : resolve(count)))),
    stop: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
