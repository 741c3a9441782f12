/**
 * Every behaviour the scripted gateway plays, end to end: a real gateway on a real port, the
 * real server, its two transports (grpc-js native gRPC, connect-node Connect), WatchAccount
 * streams over both.
 */
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AccountStatus, AuthMethod, Provider } from "../../gen/postpress/accounts/v1/account_pb.js";
import { AccountEventKind, AccountService, CheckpointType, type Checkpoint } from "../../gen/postpress/accounts/v1/account_service_pb.js";
import { ProxyProtocol } from "../../gen/postpress/accounts/v1/options_pb.js";
import { CAPTCHA_ANSWER, SCRIPT_CODE } from "../../tools/scripted-gateway/engine.ts";
import { startScriptedGateway, type ScriptedGateway } from "../../tools/scripted-gateway/server.ts";
import { callRpc, connectJson } from "../support/clients.ts";
import { startCheckpointServer, type CheckpointServer } from "./support/harness.ts";
import {
  checkpointOf,
  eventually,
  expectError,
  expectOk,
  instagram,
  intentAtGateway,
  linkedinBasic,
  login,
  messenger,
  messengerSession,
  phone,
  rpc,
  secret,
  telegram,
  TRANSPORTS,
  twitter,
  whatsapp,
} from "./support/helpers.ts";
import { kinds, watchAccount } from "./support/watch.ts";

let gateway: ScriptedGateway;
let server: CheckpointServer;

beforeAll(async () => {
  gateway = await startScriptedGateway({ qrRotateMs: 150, scanAfterMs: null, pairAfterMs: null, inAppAfterMs: null, slowMs: 1500, maxQrCodes: 1000 });
  const all = gateway.address;
  server = await startCheckpointServer({ gateways: { LINKEDIN: all, INSTAGRAM: all, MESSENGER: all, TWITTER: all, WHATSAPP: all, TELEGRAM: all } });
});

afterAll(async () => {
  await server?.close();
  await gateway?.close();
});

/** A checkpoint's shape: its type, only its own payload, an expiry in the future. */
function expectCheckpoint(checkpoint: Checkpoint | undefined, type: CheckpointType, payload: Partial<Pick<Checkpoint, "qrCode" | "pairingCode" | "captchaData" | "codeSentTo">> = {}): Checkpoint {
  expect(checkpoint, "a checkpoint").toBeDefined();
  const c = checkpoint!;
  expect(CheckpointType[c.type]).toBe(CheckpointType[type]);
  const fields = { qrCode: c.qrCode, pairingCode: c.pairingCode, captchaData: c.captchaData, codeSentTo: c.codeSentTo };
  const expected = { qrCode: "", pairingCode: "", captchaData: "", codeSentTo: "", ...payload };
  for (const [k, v] of Object.entries(expected)) {
    if (v === "*") expect(fields[k as keyof typeof fields], k).not.toBe("");
    else expect(fields[k as keyof typeof fields], k).toBe(v);
  }
  expect(c.expireTime, "expire_time").toBeDefined();
  expect(timestampDate(c.expireTime!).getTime()).toBeGreaterThan(Date.now() - 1000);
  return c;
}

describe.each(TRANSPORTS)("over %s", (wire) => {
  const api = () => rpc(server, wire);

  it("password OK: the account is created at once, with the options the gateway received", async () => {
    const username = login("ok");
    const request = linkedinBasic(username);
    const created = expectOk(await api().connect(request));
    expect(created.object).toBe("AccountCreated");
    expect(created.accountId).toMatch(/^acc_[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(checkpointOf(created)).toBeUndefined();

    const { account } = expectOk(await api().get(created.accountId));
    expect(account).toMatchObject({ provider: Provider.LINKEDIN, authMethod: AuthMethod.LINKEDIN_BASIC, status: AccountStatus.CONNECTED });
    expect(account!.identity?.providerUserId).toBe(`linkedinBasic:${username}`);
    expect(account!.options).toMatchObject({ country: "FR", ip: "203.0.113.7", userAgent: "Mozilla/5.0 TestAgent/1.0", recruiterContractId: "contract-42" });
    expect(account!.options?.proxy).toMatchObject({ protocol: ProxyProtocol.SOCKS5, host: "proxy.example.net", port: 1080, username: "proxy-user", hasPassword: true });

    // Proxy, user agent, country / ip, sync limits and the secrets travel to the gateway.
    const received = gateway.received.find((r) => r.accountId === created.accountId)!;
    expect(received.request.country).toBe("fr");
    expect(received.request.ip).toBe("203.0.113.7");
    const v = received.request.variant;
    expect(v.case).toBe("linkedinBasic");
    if (v.case !== "linkedinBasic" || request.variant?.case !== "linkedinBasic") return;
    expect(v.value.password).toBe(request.variant.value!.password);
    expect(v.value.proxy).toMatchObject({ host: "proxy.example.net", port: 1080, username: "proxy-user", password: request.variant.value!.proxy!.password });
    expect(v.value.userAgent).toBe("Mozilla/5.0 TestAgent/1.0");
    expect(v.value.syncLimit?.chats?.bound).toEqual({ case: "count", value: 25 });
    expect(received.workspaceId).toMatch(/^ws_/);
    expect(received.intentId).toMatch(/^int_/);
  });

  it("a watch on a linked account answers CONNECTED and ends", async () => {
    const created = expectOk(await api().connect(twitter(login("ok"))));
    const { events, end } = await watchAccount(server, wire, server.apiKey, created.accountId).finished();
    expect(end).toEqual({ ok: true });
    expect(kinds(events)).toEqual(["CONNECTED"]);
    expect(events[0]!.accountId).toBe(created.accountId);
  });

  it("wrong password: errors/invalid_credentials; the intent is dead afterwards", async () => {
    const r = await api().connect(instagram(login("wrong")));
    const error = expectError(r, Code.Unauthenticated, "errors/invalid_credentials");
    const accountId = error.errorInfo!.metadata.accountId!;
    expect(accountId).toMatch(/^acc_/);
    expectError(await api().solve(accountId, SCRIPT_CODE), Code.Internal, "errors/authentication_intent_error");
    const { events } = await watchAccount(server, wire, server.apiKey, accountId).finished();
    expect(events.map((e) => [AccountEventKind[e.kind], e.errorType])).toEqual([["FAILED", "errors/invalid_credentials"]]);
    expectError(await api().get(accountId), Code.NotFound, "errors/not_found");
  });

  it("account restricted: errors/account_restricted", async () => {
    expectError(await api().connect(messenger(login("restricted"))), Code.PermissionDenied, "errors/account_restricted");
  });

  it("2FA then code: a TWO_FACTOR checkpoint, solved by the code; the watch sees CHECKPOINT then CONNECTED", async () => {
    const r = expectOk(await api().connect(linkedinBasic(login("2fa"))));
    expect(r.object).toBe("Checkpoint");
    expectCheckpoint(checkpointOf(r), CheckpointType.TWO_FACTOR, { codeSentTo: "+33 6•• •• •• 42" });
    expectError(await api().get(r.accountId), Code.NotFound, "errors/not_found");

    const watch = watchAccount(server, wire, server.apiKey, r.accountId);
    const first = await watch.event(0);
    expect(AccountEventKind[first.kind]).toBe("CHECKPOINT");
    expect(first.checkpoint).toEqual(checkpointOf(r));

    const solved = expectOk(await api().solve(r.accountId, SCRIPT_CODE));
    expect(solved).toMatchObject({ object: "AccountCreated", accountId: r.accountId });
    expect(checkpointOf(solved)).toBeUndefined();
    const { events, end } = await watch.finished();
    expect(end).toEqual({ ok: true });
    expect(kinds(events)).toEqual(["CHECKPOINT", "CONNECTED"]);
    expect(events[1]!.accountId).toBe(r.accountId);
    expect(expectOk(await api().get(r.accountId)).account?.status).toBe(AccountStatus.CONNECTED);
    // Solving again is idempotent: the account.
    expect(expectOk(await api().solve(r.accountId, SCRIPT_CODE))).toMatchObject({ object: "AccountCreated", accountId: r.accountId });
  });

  it("wrong code then right code: errors/invalid_checkpoint_code keeps the checkpoint open, then the right code connects", async () => {
    const r = expectOk(await api().connect(twitter(login("2fa"))));
    const watch = watchAccount(server, wire, server.apiKey, r.accountId);
    await watch.event(0);
    const wrong = expectError(await api().solve(r.accountId, "000000"), Code.InvalidArgument, "errors/invalid_checkpoint_code");
    expect(wrong.retryInfo).toBeUndefined();
    expectError(await api().solve(r.accountId, "999999"), Code.InvalidArgument, "errors/invalid_checkpoint_code");
    expect(expectOk(await api().solve(r.accountId, SCRIPT_CODE)).object).toBe("AccountCreated");
    const { events } = await watch.finished();
    // A wrong code changes nothing the watcher can see.
    expect(kinds(events)).toEqual(["CHECKPOINT", "CONNECTED"]);
  });

  it("OTP (X asks to check the e-mail): an OTP checkpoint, solved by the code", async () => {
    const r = expectOk(await api().connect(twitter(login("email"))));
    expectCheckpoint(checkpointOf(r), CheckpointType.OTP, { codeSentTo: "a•••@e•••.com" });
    expect(expectOk(await api().solve(r.accountId, SCRIPT_CODE)).object).toBe("AccountCreated");
  });

  it("X login: connected at once, as the X user", async () => {
    const username = login("ok");
    const created = expectOk(await api().connect(twitter(username)));
    const { account } = expectOk(await api().get(created.accountId));
    expect(account).toMatchObject({ provider: Provider.TWITTER, authMethod: AuthMethod.TWITTER });
    expect(account!.identity?.handle).toBe(username);
  });

  it("captcha: a CAPTCHA checkpoint carrying the captcha, solved by its answer", async () => {
    const r = expectOk(await api().connect(instagram(login("captcha"))));
    const c = expectCheckpoint(checkpointOf(r), CheckpointType.CAPTCHA, { captchaData: "*" });
    expect(c.captchaData).toMatch(/^data:image\/svg\+xml;base64,/);
    expectError(await api().solve(r.accountId, "nope"), Code.InvalidArgument, "errors/invalid_checkpoint_code");
    expect(expectOk(await api().solve(r.accountId, CAPTCHA_ANSWER)).object).toBe("AccountCreated");
  });

  it("in-app validation: nothing to type (no_pending_checkpoint), the watch learns of the approval", async () => {
    const r = expectOk(await api().connect(linkedinBasic(login("inapp"))));
    expectCheckpoint(checkpointOf(r), CheckpointType.IN_APP_VALIDATION);
    expectError(await api().solve(r.accountId, "123"), Code.InvalidArgument, "errors/no_pending_checkpoint");
    const watch = watchAccount(server, wire, server.apiKey, r.accountId);
    await watch.event(0);
    gateway.confirm(intentAtGateway(gateway, r.accountId));
    const { events } = await watch.finished();
    expect(kinds(events)).toEqual(["CHECKPOINT", "CONNECTED"]);
  });

  it("resend: the same checkpoint with a later expiry; the watch sees CHECKPOINT_REFRESHED", async () => {
    const r = expectOk(await api().connect(messenger(login("2fa"))));
    const watch = watchAccount(server, wire, server.apiKey, r.accountId);
    await watch.event(0);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const resent = expectOk(await api().resend(r.accountId));
    expect(resent.object).toBe("Checkpoint");
    expectCheckpoint(checkpointOf(resent), CheckpointType.TWO_FACTOR, { codeSentTo: "+33 6•• •• •• 42" });
    expect(timestampDate(checkpointOf(resent)!.expireTime!).getTime()).toBeGreaterThan(timestampDate(checkpointOf(r)!.expireTime!).getTime());
    const refreshed = await watch.waitFor(AccountEventKind.CHECKPOINT_REFRESHED);
    expect(refreshed.checkpoint).toEqual(checkpointOf(resent));
    watch.cancel();
  });

  it("WhatsApp QR code: rotating QR codes on the watch, then scanned: CONNECTED", async () => {
    const r = expectOk(await api().connect(whatsapp()));
    expect(r.object).toBe("Checkpoint");
    const first = expectCheckpoint(checkpointOf(r), CheckpointType.QR_CODE, { qrCode: "*" });
    expect(first.qrCode).toMatch(/^2@/);
    // A QR code is valid for little more than its rotation.
    expect(timestampDate(first.expireTime!).getTime() - Date.now()).toBeLessThan(2000);

    const watch = watchAccount(server, wire, server.apiKey, r.accountId);
    await watch.event(3, 5000);
    gateway.confirm(intentAtGateway(gateway, r.accountId));
    const { events, end } = await watch.finished();
    expect(end).toEqual({ ok: true });
    const names = kinds(events);
    expect(names[0]).toBe("CHECKPOINT");
    expect(names.at(-1)).toBe("CONNECTED");
    expect(new Set(names.slice(1, -1))).toEqual(new Set(["CHECKPOINT_REFRESHED"]));
    const codes = events.slice(0, -1).map((e) => e.checkpoint!.qrCode);
    expect(new Set(codes).size, "every refresh is a new QR code").toBe(codes.length);
    for (const e of events.slice(0, -1)) expect(CheckpointType[e.checkpoint!.type]).toBe("QR_CODE");
    const { account } = expectOk(await api().get(r.accountId));
    expect(account).toMatchObject({ provider: Provider.WHATSAPP, authMethod: AuthMethod.WHATSAPP, status: AccountStatus.CONNECTED });
    expect(account!.identity?.providerUserId).toMatch(/^wa:\d+$/);
  });

  it("a QR code scanned while nobody watches still creates the account (the starting replica follows the gateway)", async () => {
    const r = expectOk(await api().connect(whatsapp()));
    gateway.confirm(intentAtGateway(gateway, r.accountId));
    const workspaceId = gateway.received.find((x) => x.accountId === r.accountId)!.workspaceId;
    const account = await eventually(() => server.store.getAccount(workspaceId, r.accountId), 3000, "the account");
    expect(account.status).toBe("CONNECTED");
  });

  it("WhatsApp pairing code: a PAIRING_CODE checkpoint, confirmed on the phone: CONNECTED as that number", async () => {
    const number = phone();
    const r = expectOk(await api().connect(whatsapp(number)));
    const c = expectCheckpoint(checkpointOf(r), CheckpointType.PAIRING_CODE, { pairingCode: "*" });
    expect(c.pairingCode).toMatch(/^[0-9A-F]{4}-[0-9A-F]{4}$/);
    const watch = watchAccount(server, wire, server.apiKey, r.accountId);
    await watch.event(0);
    gateway.confirm(intentAtGateway(gateway, r.accountId));
    const { events } = await watch.finished();
    expect(kinds(events)).toEqual(["CHECKPOINT", "CONNECTED"]);
    expect(expectOk(await api().get(r.accountId)).account!.identity?.providerUserId).toBe(`wa:${number.slice(1)}`);
  });

  it("Telegram: QR code, then (once scanned) the two-step password as a TWO_FACTOR checkpoint", async () => {
    const password = secret("tg-two-step");
    const r = expectOk(await api().connect(telegram(password)));
    const qr = expectCheckpoint(checkpointOf(r), CheckpointType.QR_CODE, { qrCode: "*" });
    expect(qr.qrCode).toMatch(/^tg:\/\/login\?token=/);
    const watch = watchAccount(server, wire, server.apiKey, r.accountId);
    await watch.event(1);
    gateway.confirm(intentAtGateway(gateway, r.accountId));
    const twoFactor = await eventually(() => watch.events.find((e) => e.checkpoint?.type === CheckpointType.TWO_FACTOR), 3000, "the two-step password checkpoint");
    expect(AccountEventKind[twoFactor.kind]).toBe("CHECKPOINT");
    expect(twoFactor.checkpoint?.qrCode).toBe("");
    expectError(await api().solve(r.accountId, "not-the-password"), Code.InvalidArgument, "errors/invalid_checkpoint_code");
    expect(expectOk(await api().solve(r.accountId, password)).object).toBe("AccountCreated");
    const { events } = await watch.finished();
    const names = kinds(events);
    expect(names[0]).toBe("CHECKPOINT");
    expect(names.at(-1)).toBe("CONNECTED");
    // QR codes (refreshed), then a new checkpoint of another type, then CONNECTED.
    const twoFactorAt = events.findIndex((e) => e.checkpoint?.type === CheckpointType.TWO_FACTOR);
    expect(names[twoFactorAt]).toBe("CHECKPOINT");
    for (const e of events.slice(0, twoFactorAt)) expect(CheckpointType[e.checkpoint!.type]).toBe("QR_CODE");
    expect(expectOk(await api().get(r.accountId)).account).toMatchObject({ provider: Provider.TELEGRAM, authMethod: AuthMethod.TELEGRAM });
  });

  it("provider timeout: errors/request_timeout from us, within the caller's deadline; the gateway is told to cancel", async () => {
    const username = login("timeout");
    const r = await api().connect(twitter(username), { timeoutMs: 1500 });
    expectError(r, Code.DeadlineExceeded, "errors/request_timeout");
    // Our errors/request_timeout type proves the answer came before the caller's own deadline
    // (a caller-side expiry carries no type), so no clock bound is needed on top of it.
    const received = gateway.received.find((x) => x.request.variant.case === "twitter" && x.request.variant.value.username === username)!;
    await eventually(() => gateway.calls.find((c) => c.method === "Cancel" && c.intentId === received.intentId), 3000, "the gateway's Cancel");
    expect(await server.store.getIntent(received.workspaceId, received.intentId)).toMatchObject({ status: "FAILED", errorKind: "request_timeout" });
  });

  it("gateway crash mid-intent: the solve answers errors/no_client_session, later calls authentication_intent_error", async () => {
    const r = expectOk(await api().connect(linkedinBasic(login("crash"))));
    const watch = watchAccount(server, wire, server.apiKey, r.accountId);
    await watch.event(0);
    expectError(await api().solve(r.accountId, SCRIPT_CODE), Code.Unavailable, "errors/no_client_session");
    const { events } = await watch.finished();
    expect(events.map((e) => [AccountEventKind[e.kind], e.errorType])).toEqual([
      ["CHECKPOINT", ""],
      ["FAILED", "errors/no_client_session"],
    ]);
    const later = expectError(await api().solve(r.accountId, SCRIPT_CODE), Code.Internal, "errors/authentication_intent_error");
    expect(later.errorInfo?.metadata.failure).toBe("errors/no_client_session");
  });

  it("cancel: CancelCheckpoint ends the intent; the watch sees CANCELED, a solve answers operation_canceled", async () => {
    const r = expectOk(await api().connect(linkedinBasic(login("2fa"))));
    const watch = watchAccount(server, wire, server.apiKey, r.accountId);
    await watch.event(0);
    expect(expectOk(await api().cancel(r.accountId))).toMatchObject({ object: "CheckpointCanceled", accountId: r.accountId });
    const { events } = await watch.finished();
    expect(events.map((e) => [AccountEventKind[e.kind], e.errorType])).toEqual([
      ["CHECKPOINT", ""],
      ["CANCELED", "errors/operation_canceled"],
    ]);
    expectError(await api().solve(r.accountId, SCRIPT_CODE), Code.Aborted, "errors/operation_canceled");
    // Idempotent.
    expectOk(await api().cancel(r.accountId));
    expect(gateway.engine.get(intentAtGateway(gateway, r.accountId)).state.status).toBe("CANCELED");
  });

  it("the same identity twice: the second, once solved, answers errors/already_exists", async () => {
    const username = login("2fa");
    const first = expectOk(await api().connect(twitter(username)));
    expectOk(await api().solve(first.accountId, SCRIPT_CODE));
    const second = expectOk(await api().connect(twitter(username)));
    const dup = expectError(await api().solve(second.accountId, SCRIPT_CODE), Code.AlreadyExists, "errors/already_exists");
    expect(dup.errorInfo?.metadata.accountId).toBe(first.accountId);
    const { events } = await watchAccount(server, wire, server.apiKey, second.accountId).finished();
    expect(events.map((e) => [AccountEventKind[e.kind], e.errorType])).toEqual([["FAILED", "errors/already_exists"]]);
  });

  it("cookie sessions go to the gateway too (Messenger session cookies)", async () => {
    const created = expectOk(await api().connect(messengerSession()));
    expect(created.object).toBe("AccountCreated");
    expect(expectOk(await api().get(created.accountId)).account).toMatchObject({ provider: Provider.MESSENGER, authMethod: AuthMethod.MESSENGER_SESSION });
  });

  it("another workspace sees nothing of a pending account", async () => {
    const r = expectOk(await api().connect(twitter(login("2fa"))));
    expectError(await api().solve(r.accountId, SCRIPT_CODE, { apiKey: server.otherApiKey }), Code.NotFound, "errors/not_found");
    const { end } = await watchAccount(server, wire, server.otherApiKey, r.accountId).finished();
    expect(end.ok).toBe(false);
    if (!end.ok) expect(end.error.errorInfo?.metadata.type).toBe("errors/not_found");
    expectOk(await api().cancel(r.accountId));
  });
});

describe("the other wires", () => {
  it("Connect JSON: a checkpoint as JSON (enum names, RFC 3339 expiry), solved in JSON", async () => {
    const r = await connectJson(
      server.httpUrl,
      AccountService.method.connectAccount,
      JSON.stringify({ twitter: { username: login("2fa"), email: "anna@example.com", password: secret("x") } }),
      { "x-api-key": server.apiKey },
    );
    const response = expectOk(r);
    expect(response.object).toBe("Checkpoint");
    const raw = await fetch(`${server.httpUrl}/postpress.accounts.v1.AccountService/ResendCheckpoint`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": server.apiKey },
      body: JSON.stringify({ accountId: response.accountId }),
    });
    const json = (await raw.json()) as { object: string; checkpoint: { type: string; codeSentTo: string; expireTime: string } };
    expect(json.object).toBe("Checkpoint");
    expect(json.checkpoint.type).toBe("CHECKPOINT_TYPE_TWO_FACTOR");
    expect(json.checkpoint.expireTime).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
    const solved = await connectJson(server.httpUrl, AccountService.method.solveCheckpoint, JSON.stringify({ account_id: response.accountId, code: SCRIPT_CODE }), { "x-api-key": server.apiKey });
    expect(expectOk(solved).object).toBe("AccountCreated");
  });

  it("gRPC-Web: ConnectAccount and the WatchAccount stream", async () => {
    const r = expectOk(await callRpc(server, "grpc-web", AccountService.method.connectAccount, whatsapp(), { apiKey: server.apiKey }));
    const watch = watchAccount(server, "grpc-web", server.apiKey, r.accountId);
    await watch.event(1);
    gateway.confirm(intentAtGateway(gateway, r.accountId));
    const { events, end } = await watch.finished();
    expect(end).toEqual({ ok: true });
    expect(kinds(events)[0]).toBe("CHECKPOINT");
    expect(kinds(events).at(-1)).toBe("CONNECTED");
  });

  it("SolveCheckpoint validates its request: missing code is errors/missing_parameters", async () => {
    const r = await callRpc(server, "grpc", AccountService.method.solveCheckpoint, { accountId: "acc_01HXYZ4QK3WJ8FN3M6QH7TZ8GR" }, { apiKey: server.apiKey });
    expectError(r, Code.InvalidArgument, "errors/missing_parameters");
  });

  it("unknown pending account ids: not_found on every checkpoint call", async () => {
    const id = "acc_01HXYZ4QK3WJ8FN3M6QH7TZ8GR";
    const api = rpc(server, "grpc");
    expectError(await api.solve(id, "1"), Code.NotFound, "errors/not_found");
    expectError(await api.resend(id), Code.NotFound, "errors/not_found");
    expectError(await api.cancel(id), Code.NotFound, "errors/not_found");
  });
});
