import { spawn } from "node:child_process";
import { NODE_BIN, REPO_ROOT, childEnv } from "../process.ts";

/** `npm run gateway` (src/gateway-main.ts, the pinned Node) as a child process on a real port. */
export interface GatewayProcess {
  /** host:port it serves ProviderGatewayService on. */
  address: string;
  /** Every line it wrote, stdout and stderr (pino JSON on stdout). */
  lines: string[];
  exited: Promise<number | null>;
  /** SIGTERM, then its exit code. */
  stop(): Promise<number | null>;
}

/** Starts the gateway process with `env` (its configuration, as an operator sets it) and waits for its "serving" line. */
export async function startGatewayProcess(env: Record<string, string>): Promise<GatewayProcess> {
  const lines: string[] = [];
  const child = spawn(NODE_BIN, ["--disable-warning=ExperimentalWarning", "src/gateway-main.ts"], {
    cwd: REPO_ROOT,
    env: childEnv({ GATEWAY_PORT: "0", GATEWAY_HOST: "127.0.0.1", LOG_LEVEL: "debug", ...env }),
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const address = new Promise<string>((resolve, reject) => {
    const collect = () => {
      let rest = "";
      return (chunk: Buffer) => {
        const parts = (rest + chunk.toString("utf8")).split("\n");
        rest = parts.pop()!;
        for (const line of parts.filter(Boolean)) {
          lines.push(line);
          const parsed = parseJson(line);
          if (parsed?.msg?.startsWith("gateway serving") && parsed.address) resolve(parsed.address);
        }
      };
    };
    child.stdout!.on("data", collect());
    child.stderr!.on("data", collect());
    child.once("exit", (code) => reject(new Error(`the gateway process exited (${code}):\n${lines.join("\n")}`)));
  });
  try {
    return {
      address: await address,
      lines,
      exited,
      async stop() {
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
        return exited;
      },
    };
  } catch (error) {
    child.kill("SIGKILL");
    throw error;
  }
}

function parseJson(line: string): { msg?: string; address?: string } | undefined {
  try {
    return JSON.parse(line) as { msg?: string; address?: string };
  } catch {
    return undefined;
  }
}
