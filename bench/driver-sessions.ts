/**
 * Memory per pending WhatsApp login in the driver host: N logins with the real Baileys socket
 * (Noise state, Signal key store, event buffer, WebSocket) against a local WebSocket endpoint
 * that accepts the upgrade and then stays silent, as a login waiting on WhatsApp's answer does.
 *
 *   node --expose-gc --disable-warning=ExperimentalWarning bench/driver-sessions.ts [N=200]
 */
import { createHash } from "node:crypto";
import * as http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { create } from "@bufbuild/protobuf";
import pino from "pino";
import { ConnectAccountRequestSchema } from "../gen/postpress/accounts/v1/account_service_pb.js";
import { createDriverHost } from "../src/drivers/host/host.ts";
import { createWhatsAppDriver } from "../src/drivers/whatsapp/driver.ts";
import { createTargetGuard } from "../src/net/target-guard.ts";

const n = Number(process.argv[2] ?? 200);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with node --expose-gc");

const sockets = new Set<Socket>();
const silent = http.createServer();
silent.on("upgrade", (req, socket: Socket) => {
  const accept = createHash("sha1").update(`${req.headers["sec-websocket-key"]}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest("base64");
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
  sockets.add(socket);
  // Silent, except that a close frame (opcode 8) from the client ends the connection.
  socket.on("data", (frame: Buffer) => (frame[0]! & 0x0f) === 0x8 && socket.end());
  socket.on("close", () => sockets.delete(socket));
});
await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
const url = `ws://127.0.0.1:${(silent.address() as AddressInfo).port}/ws/chat`;

const host = createDriverHost({
  drivers: [createWhatsAppDriver({ guard: createTargetGuard(), webSocketUrl: url, connectTimeoutMs: 120_000 })],
  log: pino({ level: "silent" }),
  maxPendingSessions: n + 1,
  sessionTtlMs: 600_000,
});

const measure = () => {
  gc();
  gc();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, external: m.external + m.arrayBuffers, rss: m.rss };
};
const call = () => ({ signal: AbortSignal.timeout(100), deadline: new Date(Date.now() + 100), log: pino({ level: "silent" }) });

// One login first, so module loading and lazy initialisation are not counted.
await host.start({ intentId: "int_warmup", workspaceId: "ws", accountId: "acc", request: create(ConnectAccountRequestSchema, { variant: { case: "whatsapp", value: {} } }) }, call());
await new Promise((resolve) => setTimeout(resolve, 1_000));
const before = measure();
await Promise.all(
  Array.from({ length: n }, (_, i) => host.start({ intentId: `int_${i}`, workspaceId: "ws", accountId: `acc_${i}`, request: create(ConnectAccountRequestSchema, { variant: { case: "whatsapp", value: {} } }) }, call())),
);
while (sockets.size < n + 1) await new Promise((resolve) => setTimeout(resolve, 50));
await new Promise((resolve) => setTimeout(resolve, 2_000));
const after = measure();
const per = (key: keyof typeof before) => Math.round((after[key] - before[key]) / n / 1024);
const result = { pendingLogins: host.pendingSessions, openWebSockets: sockets.size, perLoginKiB: { heap: per("heap"), externalAndBuffers: per("external"), rss: per("rss") } };
await host.close();
await new Promise((resolve) => setTimeout(resolve, 1_000));
process.stdout.write(`${JSON.stringify({ ...result, openWebSocketsAfterClose: sockets.size })}\n`);
silent.close();
process.exit(0);
