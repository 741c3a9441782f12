/**
 * `npm run gateway` as a process (src/gateway-main.ts, the pinned Node): it serves the real
 * drivers (WhatsApp, Telegram and the web ones) on its own port, a server pointed at it with
 * GATEWAY_URL_<PROVIDER> reaches them, and SIGTERM stops it cleanly. Its configuration comes
 * from the same schema as the server's: --help lists it, a refused value is exit 1.
 */
import { spawnSync } from "node:child_process";
import { Code } from "@connectrpc/connect";
import { afterAll, describe, expect, it } from "vitest";
import { gatewayConnectors } from "../../src/domain/connectors/gateway/index.ts";
import { expectError, linkedinCookie, rpc, telegram, whatsapp } from "../checkpoints/support/helpers.ts";
import { startGatewayProcess, type GatewayProcess } from "../support/drivers/gateway-process.ts";
import { NODE_BIN, REPO_ROOT } from "../support/process.ts";
import { startTestServer } from "../support/server.ts";

describe("the gateway process (npm run gateway)", () => {
  let gateway: GatewayProcess | undefined;
  afterAll(async () => {
    await gateway?.stop();
  });

  it("serves the drivers to a server configured with GATEWAY_URL_WHATSAPP / GATEWAY_URL_TELEGRAM, then stops on SIGTERM", async () => {
    // LinkedIn on a local port nothing listens on (2: not one of fetch's "bad ports").
    gateway = await startGatewayProcess({ LOG_LEVEL: "info", LINKEDIN_BASE_URL: "https://127.0.0.1:2", PROVIDER_ALLOWED_NETWORKS: "127.0.0.0/8" });
    const connectors = gatewayConnectors({ WHATSAPP: gateway.address, TELEGRAM: gateway.address, LINKEDIN: gateway.address });
    const server = await startTestServer({ connectors });
    try {
      const api = rpc(server, "grpc");
      // The real Baileys in the gateway process: no network here, WhatsApp is unreachable.
      expectError(await api.connect(whatsapp(), { timeoutMs: 30_000 }), Code.Unavailable, "errors/provider_unreachable");
      // No TELEGRAM_API_* in the gateway's environment: its log names them.
      expectError(await api.connect(telegram()), Code.Unimplemented, "errors/feature_not_implemented");
      expect(gateway.lines.join("\n")).toContain("TELEGRAM_API_ID/TELEGRAM_API_HASH unset");
      // The web drivers run there too: LinkedIn's real driver finds its (local, closed) origin unreachable.
      expectError(await api.connect(linkedinCookie()), Code.Unavailable, "errors/provider_unreachable");
    } finally {
      await server.close();
      for (const connector of connectors) connector.close();
    }
    expect(await gateway.stop()).toBe(0);
    expect(gateway.lines.join("\n")).toContain("stopping: closing provider logins");
  });
});

describe("the gateway process's configuration", () => {
  const run = (args: string[], env: Record<string, string>) =>
    spawnSync(NODE_BIN, ["--disable-warning=ExperimentalWarning", "src/gateway-main.ts", ...args], { cwd: REPO_ROOT, env: { PATH: process.env.PATH, ...env }, encoding: "utf8", timeout: 60_000 });

  it("--help lists its settings from the schema, and only its own", () => {
    const help = run(["--help"], {});
    expect(help.status).toBe(0);
    for (const name of ["GATEWAY_PORT", "GATEWAY_ADVERTISE_ADDRESS", "DRIVER_MAX_PENDING_SESSIONS", "TELEGRAM_API_HASH", "LINKEDIN_BASE_URL", "LOG_LEVEL"]) expect(help.stdout).toContain(name);
    expect(help.stdout).not.toContain("GRPC_PORT");
  });

  it("a refused value: one fatal line naming it, exit 1, the secret not echoed", () => {
    const bad = run([], { GATEWAY_PORT: "70000", TELEGRAM_API_ID: "1", TELEGRAM_API_HASH: "S3CRET-not-hex" });
    expect(bad.status).toBe(1);
    const fatal = JSON.parse(bad.stdout.trim().split("\n").at(-1)!) as { problems: { variable: string }[]; msg: string };
    expect(fatal.problems.map((p) => p.variable).sort()).toEqual(["GATEWAY_PORT", "TELEGRAM_API_HASH"]);
    expect(fatal.msg).toContain("TELEGRAM_API_HASH must be 32 hexadecimal characters");
    expect(bad.stdout).not.toContain("S3CRET");
  });
});
