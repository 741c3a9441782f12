/**
 * Nothing secret in logs, responses or watch events: passwords, proxy passwords, cookies, the
 * codes and two-step passwords people type. Secrets travel to the gateway over its call only,
 * and wait sealed in the intent (under the intent's id, which key rotation relies on) until the
 * account is created (sealed again, under the account's id).
 */
import { randomBytes } from "node:crypto";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CheckpointType } from "../../gen/postpress/accounts/v1/account_service_pb.js";
import { parseKeyring } from "../../src/crypto/keyring.ts";
import { rotateSecrets } from "../../src/crypto/rotate.ts";
import { createSealer, sealingAad } from "../../src/crypto/sealer.ts";
import { SCRIPT_CODE } from "../../tools/scripted-gateway/engine.ts";
import { startScriptedGateway, type ScriptedGateway } from "../../tools/scripted-gateway/server.ts";
import { startCheckpointServer, type CheckpointServer } from "./support/harness.ts";
import { eventually, expectError, expectOk, intentAtGateway, leaks, linkedinBasic, login, messengerSession, rpc, secret, stringify, telegram, TRANSPORTS, twitter, whatsapp } from "./support/helpers.ts";
import { watchAccount, type Watch } from "./support/watch.ts";
import { openAccountSecrets } from "../../src/domain/accounts/account-secrets.ts";

const k1 = `k1:${randomBytes(32).toString("base64")}`;
const k2 = `k2:${randomBytes(32).toString("base64")}`;
let gateway: ScriptedGateway;
let server: CheckpointServer;
let workspaceId: string;
const secrets: string[] = [];
const responses: unknown[] = [];
const watches: Watch[] = [];

beforeAll(async () => {
  gateway = await startScriptedGateway({ qrRotateMs: 150, scanAfterMs: null, pairAfterMs: null });
  const all = gateway.address;
  // Both keys known, k1 sealing (as during a rotation).
  server = await startCheckpointServer({
    gateways: { LINKEDIN: all, MESSENGER: all, TWITTER: all, WHATSAPP: all, TELEGRAM: all },
    sealer: createSealer(parseKeyring(`${k1},${k2}`, "k1")),
  });
  workspaceId = (await server.store.findWorkspaceByName("alpha"))!.id;
});

afterAll(async () => {
  await server?.close();
  await gateway?.close();
});

function keep<T>(value: T): T {
  responses.push(value);
  return value;
}

describe.each(TRANSPORTS)("over %s", (wire) => {
  const api = () => rpc(server, wire);
  const watch = (accountId: string) => {
    const w = watchAccount(server, wire, server.apiKey, accountId);
    watches.push(w);
    return w;
  };

  it("a 2FA login with a password, a proxy password, a wrong code and the right one", async () => {
    const password = secret("li-password");
    const proxyPassword = secret("proxy-password");
    const wrongCode = secret("wrong-code");
    secrets.push(password, proxyPassword, wrongCode);
    const r = keep(expectOk(await api().connect(linkedinBasic(login("2fa"), password, proxyPassword))));
    const w = watch(r.accountId);
    await w.event(0);

    // While it waits: the request is in the intent, sealed under the intent's id; the state holds no secret.
    const intent = (await server.store.getIntentByAccountId(workspaceId, r.accountId))!;
    expect(intent.status).toBe("CHECKPOINT");
    expect(leaks([password, proxyPassword], { state: intent.state, envelope: intent.secrets!.envelope.toString("latin1") })).toEqual([]);
    const opened = openAccountSecrets(server.sealer, intent.secrets!, workspaceId, intent.id).request;
    expect(opened.variant.case === "linkedinBasic" && opened.variant.value.password).toBe(password);
    expect(() => server.sealer.open(intent.secrets!, sealingAad(workspaceId, r.accountId))).toThrow();
    // ...and travelled to the gateway.
    const received = gateway.received.find((x) => x.accountId === r.accountId)!;
    expect(received.request.variant.case === "linkedinBasic" && received.request.variant.value.password).toBe(password);

    keep(expectError(await api().solve(r.accountId, wrongCode), Code.InvalidArgument, "errors/invalid_checkpoint_code"));
    keep(expectOk(await api().solve(r.accountId, SCRIPT_CODE)));
    await w.finished();
    // Created: sealed again under the account's id; the intent no longer holds them.
    const account = (await server.store.getAccount(workspaceId, r.accountId))!;
    expect(server.sealer.open(account.secrets!, sealingAad(workspaceId, r.accountId)).toString("latin1")).toContain(proxyPassword);
    expect((await server.store.getIntent(workspaceId, intent.id))!.secrets).toBeNull();
    keep(expectOk(await api().get(r.accountId)));
  });

  it("Telegram's two-step password, typed as the checkpoint's code", async () => {
    const password = secret("tg-password");
    secrets.push(password);
    const r = keep(expectOk(await api().connect(telegram(password))));
    const w = watch(r.accountId);
    await w.event(0);
    gateway.confirm(intentAtGateway(gateway, r.accountId));
    await eventually(() => w.events.find((e) => e.checkpoint?.type === CheckpointType.TWO_FACTOR));
    keep(expectOk(await api().solve(r.accountId, password)));
    await w.finished();
  });

  it("a WhatsApp proxy password, Messenger session cookies, a wrong X password", async () => {
    const proxyPassword = secret("wa-proxy");
    const xs = secret("xs-cookie");
    const xPassword = secret("x-password");
    secrets.push(proxyPassword, xs, xPassword);
    const qr = keep(expectOk(await api().connect(whatsapp("", proxyPassword))));
    const w = watch(qr.accountId);
    await w.event(1);
    gateway.confirm(intentAtGateway(gateway, qr.accountId));
    await w.finished();
    keep(expectOk(await api().get(qr.accountId)));
    const session = keep(expectOk(await api().connect(messengerSession(undefined, xs))));
    keep(expectOk(await api().get(session.accountId)));
    keep(expectError(await api().connect(twitter(login("wrong"), xPassword)), Code.Unauthenticated, "errors/invalid_credentials"));
    keep(expectError(await api().connect(twitter(login("crash"), xPassword)).then(async (r) => (r.ok ? api().solve(r.response.accountId, SCRIPT_CODE) : r)), Code.Unavailable, "errors/no_client_session"));
  });
});

describe("key rotation while an intent waits", () => {
  it("re-seals the waiting request under the intent's id; the account is then created from it", async () => {
    const password = secret("rotated-password");
    secrets.push(password);
    const api = rpc(server, "grpc");
    const r = keep(expectOk(await api.connect(twitter(login("2fa"), password))));
    const before = (await server.store.getIntentByAccountId(workspaceId, r.accountId))!;
    expect(before.secrets!.keyId).toBe("k1");
    const result = await rotateSecrets({ store: server.store, sealer: createSealer(parseKeyring(`${k1},${k2}`, "k2")), activeKeyId: "k2" });
    expect(result.failed).toBe(0);
    expect((await server.store.getIntent(workspaceId, before.id))!.secrets!.keyId).toBe("k2");
    keep(expectOk(await api.solve(r.accountId, SCRIPT_CODE)));
    const account = (await server.store.getAccount(workspaceId, r.accountId))!;
    expect(server.sealer.open(account.secrets!, sealingAad(workspaceId, r.accountId)).toString("latin1")).toContain(password);
  });
});

describe("where secrets must not be", () => {
  it("not in any response, watch event or log line", async () => {
    expect(secrets.length).toBeGreaterThan(10);
    const events = watches.flatMap((w) => w.events);
    expect(events.length).toBeGreaterThan(5);
    expect(leaks([...secrets, SCRIPT_CODE], { responses, events, logs: server.logs.join("\n") })).toEqual([]);
    // The logs did record the calls (so their silence about secrets means something).
    const logs = server.logs.join("\n");
    for (const method of ["ConnectAccount", "SolveCheckpoint", "WatchAccount", "GetAccount"]) expect(logs).toContain(`"method":"${method}"`);
    expect(stringify(responses)).toContain("Checkpoint");
  });
});
