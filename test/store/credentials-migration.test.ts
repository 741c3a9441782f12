import { spawn } from "node:child_process";
import { copyFileSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { equals, fromJson } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConnectAccountRequestSchema } from "../../gen/postpress/accounts/v1/account_service_pb.js";
import { parseKeyring } from "../../src/crypto/keyring.ts";
import { createSealer, sealingAad } from "../../src/crypto/sealer.ts";
import { connectRequestOf } from "../../src/domain/credentials/connect-request.ts";
import { isDomainForm, openCredentials, type StoredCredentials } from "../../src/domain/credentials/sealed-credentials.ts";
import { openStore } from "../../src/store/open.ts";
import type { SealedBlob, Store } from "../../src/store/store.ts";
import { PLANTED_SESSION, plantedSecrets, VARIANT_REQUESTS } from "../support/connect-requests.ts";
import { dropSchema, PG_URL, uniqueSchema, withPg } from "../support/pg.ts";
import { childEnv, NODE_BIN, REPO_ROOT, runCli, tempDataDir } from "../support/process.ts";

/**
 * Issue 16.3, "must show": `secrets migrate` on a store written by main before the domain
 * credentials type (test/fixtures/legacy-store, generated from commit 39be888 by
 * tools/legacy-store-fixture/generate.ts), on both stores. A real child process is SIGKILLed
 * after exactly KILL_AFTER rows (pages of one row, paused by the child itself, no timer); then
 * the CLI finishes the job: every row readable at every step, all in the domain form at the
 * end, each with the values it had before, and no secret in any output or in the raw bytes.
 */

const FIXTURE = join(REPO_ROOT, "test/fixtures/legacy-store");
const KEYS = readFileSync(join(FIXTURE, "sealing-keys"), "utf8").trim();
const MANIFEST = JSON.parse(readFileSync(join(FIXTURE, "manifest.json"), "utf8")) as {
  schema: string;
  rows: { table: "accounts" | "intents" | "webhook_endpoints"; id: string; workspaceId: string; variant: string; session: boolean; deleted?: boolean }[];
};
const sealer = createSealer(parseKeyring(KEYS));
const CREDENTIAL_ROWS = MANIFEST.rows.filter((r) => r.table !== "webhook_endpoints" && !r.deleted);
const KILL_AFTER = 5;
const SECRETS = [...plantedSecrets(), "planted-telegram-string-session", "planted-webhook-signing-secret"];

interface Backend {
  name: string;
  setUp(): Promise<Record<string, string>>;
  /** Every byte the store holds, as text to search. */
  rawText(): Promise<string>;
  tearDown(): Promise<void>;
}

function sqliteBackend(): Backend {
  const dir = tempDataDir();
  return {
    name: "sqlite",
    async setUp() {
      copyFileSync(join(FIXTURE, "accounts.db"), join(dir, "accounts.db"));
      return { DATA_DIR: dir };
    },
    async rawText() {
      return readdirSync(dir).map((f) => readFileSync(join(dir, f)).toString("latin1")).join("\n");
    },
    async tearDown() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function postgresBackend(): Backend {
  const schema = uniqueSchema("legacy");
  return {
    name: "postgres",
    async setUp() {
      // The dump names its schema in every statement; it is this suite's schema here.
      const dump = readFileSync(join(FIXTURE, "postgres.sql"), "utf8").replaceAll(MANIFEST.schema, schema);
      await withPg((client) => client.query(dump));
      return { DATABASE_URL: `${PG_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}` };
    },
    async rawText() {
      return withPg(async (client) => {
        const tables = ["workspaces", "accounts", "intents", "webhook_endpoints", "events"];
        const rows = await Promise.all(tables.map((t) => client.query(`SELECT * FROM ${schema}.${t}`)));
        return rows.flatMap((r) => r.rows.flatMap((row: Record<string, unknown>) => Object.values(row).map((v) => (Buffer.isBuffer(v) ? v.toString("latin1") : typeof v === "object" ? JSON.stringify(v) : String(v))))).join("\n");
      });
    },
    tearDown: () => dropSchema(schema),
  };
}

describe.each([sqliteBackend, postgresBackend])("secrets migrate on a store written by main (%o)", (make) => {
  const backend = make();
  let env: Record<string, string> = {};
  const outputs: string[] = [];

  const withStore = async <T>(fn: (store: Store) => Promise<T>): Promise<T> => {
    const store = await openStore({ dataDir: env.DATA_DIR ?? "", ...(env.DATABASE_URL ? { databaseUrl: env.DATABASE_URL } : {}) });
    try {
      return await fn(store);
    } finally {
      await store.close();
    }
  };
  /** Every manifest row's blob (null when the row keeps none). */
  const blobs = () =>
    withStore(async (store) => {
      const all = new Map<string, SealedBlob | null>();
      for (const row of MANIFEST.rows) {
        const record =
          row.table === "accounts" ? await store.getAccount(row.workspaceId, row.id) : row.table === "intents" ? await store.getIntent(row.workspaceId, row.id) : (await store.listWebhookEndpoints(row.workspaceId)).find((e) => e.id === row.id);
        all.set(row.id, record ? ("secret" in record ? record.secret : record.secrets) : null);
      }
      return all;
    });
  /** The credentials every credential row holds now, and how many are in the domain form. */
  const readAll = async () => {
    const stored = await blobs();
    const opened = new Map<string, StoredCredentials>();
    let domainForm = 0;
    for (const row of CREDENTIAL_ROWS) {
      const blob = stored.get(row.id)!;
      opened.set(row.id, openCredentials(sealer, blob, row.workspaceId, row.id));
      if (isDomainForm(sealer.open(blob, sealingAad(row.workspaceId, row.id)))) domainForm++;
    }
    return { opened, domainForm, stored };
  };

  let before: Awaited<ReturnType<typeof readAll>>;
  beforeAll(async () => {
    env = { ...(await backend.setUp()), SEALING_KEYS: KEYS };
    before = await readAll();
  });
  afterAll(() => backend.tearDown());

  it("reads every legacy row as the domain type, with the values main sealed", () => {
    expect(before.domainForm).toBe(0);
    expect(CREDENTIAL_ROWS.length).toBeGreaterThan(KILL_AFTER);
    for (const row of CREDENTIAL_ROWS) {
      const opened = before.opened.get(row.id)!;
      expect(equals(ConnectAccountRequestSchema, connectRequestOf(opened), fromJson(ConnectAccountRequestSchema, VARIANT_REQUESTS[row.variant]!)), row.variant).toBe(true);
      expect(opened.session !== undefined, row.variant).toBe(row.session);
    }
    expect(before.opened.get(CREDENTIAL_ROWS.find((r) => r.variant === "whatsapp")!.id)!.session).toEqual(PLANTED_SESSION);
  });

  it(`killed (SIGKILL) after ${KILL_AFTER} rows, it leaves exactly those migrated and every row readable`, async () => {
    const child = spawn(NODE_BIN, ["--disable-warning=ExperimentalWarning", "test/support/migrate-until-paused.ts"], {
      cwd: REPO_ROOT,
      env: childEnv({ ...env, PAUSE_AFTER_PAGES: String(KILL_AFTER) }),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once("exit", (_code, signal) => resolve(signal)));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on("data", (c: Buffer) => {
        stdout += c.toString("utf8");
        if (stdout.includes("\n")) resolve();
      });
      child.once("exit", () => reject(new Error(`the child exited before pausing: ${stdout} ${stderr}`)));
    });
    expect(stdout).toMatch(new RegExp(`^paused \\{"migrated":${KILL_AFTER},"current":0,"skipped":0,"failed":0\\}`));
    child.kill("SIGKILL");
    expect(await exited).toBe("SIGKILL");
    outputs.push(stdout, stderr);

    const mid = await readAll();
    expect(mid.domainForm).toBe(KILL_AFTER);
    for (const row of CREDENTIAL_ROWS) expect(mid.opened.get(row.id), row.variant).toEqual(before.opened.get(row.id));
  });

  it("run again through the CLI, it migrates the rest; a third run finds nothing to do", async () => {
    const second = await runCli(["secrets", "migrate", "--page-size", "1"], env);
    outputs.push(second.stdout, second.stderr);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toBe(`migrated ${CREDENTIAL_ROWS.length - KILL_AFTER}, already current ${KILL_AFTER}, skipped 0 (changed meanwhile), failed 0\n`);
    expect(second.stderr).toMatch(new RegExp(`^${CREDENTIAL_ROWS.length} rows handled \\(${CREDENTIAL_ROWS.length - KILL_AFTER} migrated\\)$`, "m"));

    const third = await runCli(["secrets", "migrate"], env);
    outputs.push(third.stdout, third.stderr);
    expect(third.code, third.stderr).toBe(0);
    expect(third.stdout).toBe(`migrated 0, already current ${CREDENTIAL_ROWS.length}, skipped 0 (changed meanwhile), failed 0\n`);
  });

  it("leaves every row in the domain form with the values it had, and the other blobs untouched", async () => {
    const after = await readAll();
    expect(after.domainForm).toBe(CREDENTIAL_ROWS.length);
    for (const row of CREDENTIAL_ROWS) expect(after.opened.get(row.id), row.variant).toEqual(before.opened.get(row.id));
    const webhook = MANIFEST.rows.find((r) => r.table === "webhook_endpoints")!;
    expect(after.stored.get(webhook.id)).toEqual(before.stored.get(webhook.id));
    expect(sealer.open(after.stored.get(webhook.id)!, sealingAad(webhook.workspaceId, webhook.id)).toString()).toBe("planted-webhook-signing-secret");
    expect(after.stored.get(MANIFEST.rows.find((r) => r.deleted)!.id)).toBeNull();
  });

  it("puts no secret in its output, nor in clear in the store's bytes", async () => {
    const raw = await backend.rawText();
    expect(raw).toContain("proxy-user"); // positive control: the search reads the real rows
    // Positive control: the outputs searched are the runs' real ones (this test alone would search none).
    expect(outputs.join("")).toContain("migrated");
    for (const secret of SECRETS) {
      expect(raw.includes(secret), "a secret in the store's bytes").toBe(false);
      for (const text of outputs) expect(text.includes(secret), "a secret in the output").toBe(false);
    }
  });
});
