import { spawn } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { schema } from "../../src/config.ts";
import { settingsOf } from "../../src/config/tree.ts";
import { NODE_BIN, REPO_ROOT, runMain, startServiceProcess, tempDataDir } from "../support/process.ts";

/**
 * The server's configuration as an operator meets it: a refused value is one JSON fatal line
 * naming the variable and what it accepts, exit 1, before anything is opened or written;
 * --help lists every setting; --version says which build runs.
 */

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A DATA_DIR that does not exist yet: a start that opens the store or writes a key creates it. */
function unusedDataDir(): string {
  const parent = tempDataDir();
  dirs.push(parent);
  return join(parent, "data");
}

const refused: [string, Record<string, string>, RegExp][] = [
  ["GRPC_PORT", { GRPC_PORT: "fifty" }, /GRPC_PORT must be a port number \(0-65535; 0 picks a free one\), got "fifty"/],
  ["HTTP_PORT", { HTTP_PORT: "70000" }, /HTTP_PORT must be a port number/],
  ["DRAIN_TIMEOUT_MS", { DRAIN_TIMEOUT_MS: "10s" }, /DRAIN_TIMEOUT_MS must be a positive whole number of milliseconds, got "10s"/],
  ["LOG_LEVEL", { LOG_LEVEL: "loud" }, /LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "loud"/],
  ["GATEWAY_URL_WHATSAPP", { GATEWAY_URL_WHATSAPP: "http://gw:7000" }, /GATEWAY_URL_WHATSAPP must be host:port \(plaintext HTTP\/2 gRPC, no scheme\), got "http:\/\/gw:7000"/],
  ["MAIL_CONNECT_TIMEOUT_MS", { MAIL_CONNECT_TIMEOUT_MS: "soon" }, /MAIL_CONNECT_TIMEOUT_MS must be a positive whole number of milliseconds, got "soon"/],
  ["MAIL_EXTRA_CA_FILE", { MAIL_EXTRA_CA_FILE: "no-such-ca.pem" }, /MAIL_EXTRA_CA_FILE must be a readable PEM file of CA certificates \(cannot read it: ENOENT\)/],
  ["MAIL_EXTRA_CA_FILE", { MAIL_EXTRA_CA_FILE: "package.json" }, /MAIL_EXTRA_CA_FILE must be a readable PEM file of CA certificates \(The extra mail CA file holds no PEM certificate\)/],
  ["DATABASE_URL", { DATABASE_URL: "garbage" }, /DATABASE_URL must be a PostgreSQL URL, postgres:\/\/user:password@host:port\/database \(the value is not a valid URL\)$/],
  ["DATABASE_URL", { DATABASE_URL: "mysql://root:hunter2@db/x" }, /DATABASE_URL must be a PostgreSQL URL.*\(the URL's scheme is not postgres or postgresql\)$/],
  ["SEALING_KEYS", { NODE_ENV: "production" }, /SEALING_KEYS is required in production/],
  ["HTTP_PORT", { GRPC_PORT: "7000", HTTP_PORT: "7000" }, /HTTP_PORT and GRPC_PORT are both 7000/],
];

describe("a refused setting", () => {
  it.each(refused)("%s %j: one JSON fatal line naming it, exit 1, nothing opened or written", async (variable, env, message) => {
    const dataDir = unusedDataDir();
    const r = await runMain([], { DATA_DIR: dataDir, ...env });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("");
    const lines = r.stdout.trim().split("\n");
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(line.level).toBe(60);
    expect(line.variable).toBe(variable);
    expect(typeof line.accepted).toBe("string");
    expect(line.msg).toMatch(/^invalid configuration: /);
    expect(line.msg).toMatch(message);
    expect(line).not.toHaveProperty("err"); // a mistake in the settings, not in the code: no stack
    // Secrets (DATABASE_URL may carry a password) are never echoed.
    expect(r.stdout).not.toContain("hunter2");
    expect(existsSync(dataDir), "the data directory was created: something was opened or written").toBe(false);
  });

  it("several at once are all named in the one line", async () => {
    const r = await runMain([], { DATA_DIR: unusedDataDir(), GRPC_PORT: "x", LOG_LEVEL: "loud" });
    expect(r.code).toBe(1);
    const line = JSON.parse(r.stdout.trim()) as { variable: string; problems: { variable: string }[] };
    expect(line.problems.map((p) => p.variable)).toEqual(["GRPC_PORT", "LOG_LEVEL"]);
  });
});

describe("--help and --version", () => {
  it("--help lists every setting with its default and meaning, from the schema, and exits 0", async () => {
    const r = await runMain(["--help"], {});
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^usage: npm start/);
    for (const s of settingsOf(schema)) {
      expect(r.stdout).toContain(`  ${s.env}${s.shownDefault === undefined ? "\n" : ` (default: ${s.shownDefault})`}`);
      expect(r.stdout).toContain(s.doc);
    }
    expect(r.stdout).toContain("GRPC_PORT (default: 50051)");
    expect(r.stdout).toContain("API_KEY_CACHE_MS (default: 5000)");
  });

  it("--version prints the package's name and version and exits 0", async () => {
    const pkg = JSON.parse(readFileSync("package.json", "utf8")) as { version: string };
    const r = await runMain(["--version"], {});
    expect(r).toEqual({ code: 0, stdout: `postpress-accounts ${pkg.version}\n`, stderr: "" });
  });

  it("an unknown option is one line on stderr, exit 2, and starts nothing", async () => {
    const dataDir = unusedDataDir();
    const r = await runMain(["--port", "1"], { DATA_DIR: dataDir });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/^postpress-accounts: Unknown option '--port'/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(dataDir)).toBe(false);
  });
});

describe("LOG_FORMAT=pretty", () => {
  it("writes human-readable lines, not JSON, from start-up to the last line on SIGTERM", async () => {
    const child = spawn(NODE_BIN, ["--disable-warning=ExperimentalWarning", "src/main.ts"], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH, DATA_DIR: unusedDataDir(), GRPC_PORT: "0", HTTP_PORT: "0", LOG_FORMAT: "pretty", NO_COLOR: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    const serving = new Promise<void>((resolve) =>
      child.stdout.on("data", (chunk: Buffer) => {
        stdout += chunk.toString("utf8");
        if (stdout.includes("serving gRPC and Connect")) resolve();
      }),
    );
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    try {
      await serving;
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
    } finally {
      child.kill("SIGKILL");
    }
    const lines = stdout.trim().split("\n");
    expect(lines.find((l) => l.includes("serving gRPC and Connect"))).toMatch(/^\[[^\]]+\] INFO \(\d+\): serving gRPC and Connect$/);
    expect(lines.some((l) => l.startsWith("{"))).toBe(false);
    expect(stdout).toMatch(/\] INFO: stopped$/m);
  });
});

describe("the start-up line", () => {
  it("says which connectors and gateways this replica runs with", async () => {
    const service = await startServiceProcess({ dataDir: unusedDataDir(), env: { GATEWAY_URL_WHATSAPP: "127.0.0.1:50061", GOOGLE_CLIENT_ID: "gid", GOOGLE_CLIENT_SECRET: "gsecret-planted" } });
    try {
      const line = service.logs().find((l) => l.msg === "serving gRPC and Connect")!;
      expect(line).toMatchObject({ connectors: ["mail", "googleOauth", "outlook"], gateways: { WHATSAPP: "127.0.0.1:50061" }, oauthRefresh: { google: true, microsoft: false }, store: "sqlite" });
      expect(service.stdout.join("\n")).not.toContain("gsecret-planted");
    } finally {
      service.child.kill("SIGTERM");
      await service.exited;
    }
  });
});
