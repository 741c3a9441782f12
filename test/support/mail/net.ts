import { execFile } from "node:child_process";
import { connect, createServer } from "node:net";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface HostPort {
  host: string;
  port: number;
}

/** A port that was free a moment ago, for servers (like Dovecot) that cannot listen on port 0. */
export async function freePort(host = "127.0.0.1"): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once("error", reject).listen(0, host, resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === "string") throw new Error("no TCP address");
  return address.port;
}

/** Whether this process may listen on `port` at `host` (ports below 1024 need root or a lowered sysctl). */
export async function canListen(host: string, port: number): Promise<boolean> {
  const server = createServer();
  const ok = await new Promise<boolean>((resolve) => {
    server.once("error", () => resolve(false)).listen(port, host, () => resolve(true));
  });
  if (ok) await new Promise((resolve) => server.close(resolve));
  return ok;
}

/** Resolves once a TCP connection to the address succeeds (the probe is closed at once). */
export async function waitForPort({ host, port }: HostPort, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, host, () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (open) return;
    if (Date.now() > until) throw new Error(`nothing listens on ${host}:${port} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

interface SocketRow {
  state: string;
  local: string;
  peer: string;
  /** The ss process column, e.g. users:(("node",pid=12,fd=20)); empty once no process holds the socket. */
  process: string;
}

async function tcpSockets(): Promise<SocketRow[]> {
  const { stdout } = await run("ss", ["-Htanp"]);
  return stdout
    .split("\n")
    .map((line) => line.trim().split(/\s+/))
    .filter((cols) => cols.length >= 5)
    .map(([state = "", , , local = "", peer = "", ...rest]) => ({ state, local, peer, process: rest.join(" ") }));
}

const key = ({ host, port }: HostPort) => `${host}:${port}`;

/**
 * Sockets this process still holds towards any of the servers: a socket a client closed
 * leaves the process at once (TIME-WAIT rows carry no process), a leaked one stays.
 */
export async function clientSocketsTo(servers: HostPort[]): Promise<string[]> {
  const wanted = new Set(servers.map(key));
  const mine = `pid=${process.pid},`;
  return (await tcpSockets())
    .filter((row) => row.state !== "LISTEN" && wanted.has(row.peer) && row.process.includes(mine))
    .map((row) => `${row.state} ${row.local} -> ${row.peer}`);
}

/** Established connections the servers (any process, e.g. Dovecot) still hold. */
export async function serverConnectionsOn(servers: HostPort[]): Promise<number> {
  const wanted = new Set(servers.map(key));
  return (await tcpSockets()).filter((row) => row.state === "ESTAB" && wanted.has(row.local)).length;
}
