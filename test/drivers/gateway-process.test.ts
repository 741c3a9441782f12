/**
 * `npm run gateway` as a process (src/gateway-main.ts, the pinned Node): it serves the real
 * drivers on its own port, a server pointed at it with GATEWAY_URL_<PROVIDER> reaches them,
 * and SIGTERM stops it cleanly.
 */
import { spawn } from "node:child_process";
import { Code } from "@connectrpc/connect";
import { afterAll, describe, expect, it } from "vitest";
import { gatewayConnectors } from "../../src/domain/connectors/gateway/index.ts";
import { expectError, rpc, telegram, whatsapp } from "../checkpoints/support/helpers.ts";
import { NODE_BIN, REPO_ROOT } from "../support/process.ts";
import { startTestServer } from "../support/server.ts";

describe("the gateway process (npm run gateway)", () => {
  const stdout: string[] = [];
  const child = spawn(NODE_BIN, ["--disable-warning=ExperimentalWarning", "src/gateway-main.ts"], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH, GATEWAY_PORT: "0", LOG_LEVEL: "info" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const address = new Promise<string>((resolve, reject) => {
    let buffer = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      buffer += chunk.toString();
      const lines = buffer.split("\n");
      buffer = lines.pop()!;
      for (const line of lines) {
        stdout.push(line);
        const parsed = JSON.parse(line) as { msg?: string; address?: string };
        if (parsed.msg?.startsWith("gateway serving") && parsed.address) resolve(parsed.address);
      }
    });
    child.once("exit", (code) => reject(new Error(`gateway exited (${code}): ${stdout.join("\n")}`)));
  });
  afterAll(() => {
    if (child.exitCode === null) child.kill("SIGKILL");
  });

  it("serves the drivers to a server configured with GATEWAY_URL_WHATSAPP / GATEWAY_URL_TELEGRAM, then stops on SIGTERM", async () => {
    const gateway = await address;
    const connectors = gatewayConnectors({ WHATSAPP: gateway, TELEGRAM: gateway });
    const server = await startTestServer({ connectors });
    try {
      const api = rpc(server, "grpc");
      // The real Baileys in the gateway process: no network here, WhatsApp is unreachable.
      expectError(await api.connect(whatsapp(), { timeoutMs: 30_000 }), Code.Unavailable, "errors/provider_unreachable");
      // No TELEGRAM_API_* in the gateway's environment: its log names them.
      expectError(await api.connect(telegram()), Code.Unimplemented, "errors/feature_not_implemented");
      expect(stdout.join("\n")).toContain("TELEGRAM_API_ID/TELEGRAM_API_HASH unset");
    } finally {
      await server.close();
      for (const connector of connectors) connector.close();
    }
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(stdout.join("\n")).toContain("stopping: closing provider logins");
  });
});
