import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";

export interface H2cListener {
  readonly port: number;
  /** Stops accepting and cuts open connections (their calls fail; clients reconnect elsewhere). */
  close(): Promise<void>;
}

/** A plaintext HTTP/2 server (what grpc-js speaks without TLS) for one request handler. */
export async function listenH2c(handler: (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void, host: string, port: number): Promise<H2cListener> {
  const server = http2.createServer({}, handler);
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on("session", (session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const session of sessions) session.destroy();
      await closed;
    },
  };
}
