/**
 * The rules of authentication intents, end to end over both transports: one open intent per
 * identity (auth_in_progress), restart (operation_canceled for whoever waits on the earlier
 * one), authentication_intent_error after a failure, expiry (on the watch stream, and for calls).
 */
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import pg from "pg";
import { ulid } from "ulid";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AccountEventKind } from "../../gen/postpress/accounts/v1/account_service_pb.js";
import { SCRIPT_CODE } from "../../tools/scripted-gateway/engine.ts";
import { startScriptedGateway, type ScriptedGateway } from "../../tools/scripted-gateway/server.ts";
import type { RpcResult } from "../support/clients.ts";
import { PG_URL } from "../support/pg.ts";
import { startCheckpointServer, type CheckpointServer } from "./support/harness.ts";
import { checkpointOf, eventually, expectError, expectOk, intentAtGateway, linkedinBasic, login, phone, rpc, TRANSPORTS, twitter, whatsapp } from "./support/helpers.ts";
import { kinds, watchAccount } from "./support/watch.ts";

async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client(PG_URL);
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await client.end();
}

const CASES = (["sqlite", "postgres"] as const).flatMap((backend) => TRANSPORTS.map((wire) => [backend, wire] as const));

describe.each(CASES)("%s store, over %s", (backend, wire) => {
  let gateway: ScriptedGateway;
  /** Code checkpoints expire fast, QR codes run out after three. */
  let shortLived: ScriptedGateway;
  let server: CheckpointServer;
  let expiring: CheckpointServer;
  const schemas: string[] = [];

  beforeAll(async () => {
    gateway = await startScriptedGateway({ qrRotateMs: 150, scanAfterMs: null, pairAfterMs: null, slowMs: 1500 });
    shortLived = await startScriptedGateway({ checkpointTtlMs: 700, qrRotateMs: 100, maxQrCodes: 3, scanAfterMs: null });
    const onPostgres = () => {
      const pgSchema = `cp_rules_${ulid().toLowerCase()}`;
      schemas.push(pgSchema);
      return { backend, pgSchema };
    };
    server = await startCheckpointServer({ gateways: { TWITTER: gateway.address, LINKEDIN: gateway.address, WHATSAPP: gateway.address }, ...(backend === "postgres" ? onPostgres() : {}) });
    expiring = await startCheckpointServer({ gateways: { TWITTER: shortLived.address, WHATSAPP: shortLived.address }, ...(backend === "postgres" ? onPostgres() : {}) });
  });

  afterAll(async () => {
    await server?.close();
    await expiring?.close();
    await gateway?.close();
    await shortLived?.close();
    for (const schema of schemas) await dropSchema(schema);
  });

  describe("intent rules", () => {
    const api = () => rpc(server, wire);

    it("one open intent per identity: a second ConnectAccount answers errors/auth_in_progress", async () => {
      const username = login("2fa");
      const first = expectOk(await api().connect(twitter(username)));
      expect(first.object).toBe("Checkpoint");
      const second = expectError(await api().connect(twitter(username)), Code.Aborted, "errors/auth_in_progress");
      expect(second.retryInfo, "auth_in_progress is retryable").toBeDefined();
      expect(new Date(second.errorInfo!.metadata.expireTime!).getTime()).toBe(timestampDate(checkpointOf(first)!.expireTime!).getTime());
      // The first goes on undisturbed.
      expect(expectOk(await api().solve(first.accountId, SCRIPT_CODE)).object).toBe("AccountCreated");
    });

    it("a WhatsApp pairing number is an identity too; QR intents never block each other", async () => {
      const number = phone();
      expectOk(await api().connect(whatsapp(number)));
      expectError(await api().connect(whatsapp(number)), Code.Aborted, "errors/auth_in_progress");
      expect(expectOk(await api().connect(whatsapp())).object).toBe("Checkpoint");
      expect(expectOk(await api().connect(whatsapp())).object).toBe("Checkpoint");
    });

    it("restart ends the earlier intent: its watcher sees CANCELED (operation_canceled), its solve answers operation_canceled", async () => {
      const username = login("2fa");
      const first = expectOk(await api().connect(linkedinBasic(username)));
      const watch = watchAccount(server, wire, server.apiKey, first.accountId);
      await watch.event(0);
      const second = expectOk(await api().connect({ ...linkedinBasic(username), restart: true }));
      expect(second.object).toBe("Checkpoint");
      expect(second.accountId).not.toBe(first.accountId);
      const { events, end } = await watch.finished();
      expect(end).toEqual({ ok: true });
      expect(events.map((e) => [AccountEventKind[e.kind], e.errorType])).toEqual([
        ["CHECKPOINT", ""],
        ["CANCELED", "errors/operation_canceled"],
      ]);
      expectError(await api().solve(first.accountId, SCRIPT_CODE), Code.Aborted, "errors/operation_canceled");
      expectError(await api().resend(first.accountId), Code.Aborted, "errors/operation_canceled");
      // The gateway was told to drop the earlier session.
      const earlier = intentAtGateway(gateway, first.accountId);
      await eventually(() => (gateway.engine.get(earlier).state.status === "CANCELED" ? true : undefined), 3000, "the gateway's cancel");
      expect(expectOk(await api().solve(second.accountId, SCRIPT_CODE)).object).toBe("AccountCreated");
    });

    it("restart while the earlier ConnectAccount still waits on the provider: that call answers operation_canceled at once", async () => {
      const username = login("slow");
      const waiting = api().connect(twitter(username), { timeoutMs: 10_000 });
      await eventually(() => gateway.received.find((r) => r.request.variant.case === "twitter" && r.request.variant.value.username === username), 3000, "the first start");
      const restarted = api().connect({ ...twitter(username), restart: true }, { timeoutMs: 10_000 });
      // Canceled, not the provider's answer: the restart ended it (no clock needed to tell).
      expectError(await waiting, Code.Aborted, "errors/operation_canceled");
      const second = expectOk(await restarted);
      expect(second.object).toBe("Checkpoint");
      expect(expectOk(await api().solve(second.accountId, SCRIPT_CODE)).object).toBe("AccountCreated");
    });

    it("an intent killed after a provider failure answers errors/authentication_intent_error (restart from the beginning)", async () => {
      const username = login("restricted");
      const failed = expectError(await api().connect(twitter(username)), Code.PermissionDenied, "errors/account_restricted");
      const accountId = failed.errorInfo!.metadata.accountId!;
      const results: RpcResult<unknown>[] = [await api().solve(accountId, SCRIPT_CODE), await api().resend(accountId), await api().cancel(accountId)];
      for (const r of results) {
        const e = expectError(r, Code.Internal, "errors/authentication_intent_error");
        expect(e.message).toContain("Restart from the beginning");
        expect(e.errorInfo?.metadata.failure).toBe("errors/account_restricted");
      }
      // The identity is free again: no auth_in_progress.
      expectError(await api().connect(twitter(username)), Code.PermissionDenied, "errors/account_restricted");
    });
  });

  describe("expiry", () => {
    const api = () => rpc(expiring, wire);

    it("a checkpoint nobody solves expires: the watch sees EXPIRED (errors/intent_expired); calls answer intent_expired", async () => {
      const username = login("2fa");
      const r = expectOk(await api().connect(twitter(username)));
      const expireTime = timestampDate(checkpointOf(r)!.expireTime!).getTime();
      expect(expireTime - Date.now()).toBeLessThanOrEqual(700);
      const watch = watchAccount(expiring, wire, expiring.apiKey, r.accountId);
      const { events, end } = await watch.finished(5000);
      expect(end).toEqual({ ok: true });
      expect(events.map((e) => [AccountEventKind[e.kind], e.errorType])).toEqual([
        ["CHECKPOINT", ""],
        ["EXPIRED", "errors/intent_expired"],
      ]);
      expect(timestampDate(events[1]!.eventTime!).getTime()).toBeGreaterThanOrEqual(expireTime);
      const e = expectError(await api().solve(r.accountId, SCRIPT_CODE), Code.DeadlineExceeded, "errors/intent_expired");
      expect(e.retryInfo).toBeUndefined();
      expectError(await api().resend(r.accountId), Code.DeadlineExceeded, "errors/intent_expired");
      // An expired intent frees its identity.
      expect(expectOk(await api().connect(twitter(username))).object).toBe("Checkpoint");
    });

    it("a solve after the expiry, with nobody watching, answers intent_expired", async () => {
      const r = expectOk(await api().connect(twitter(login("2fa"))));
      await new Promise((resolve) => setTimeout(resolve, 900));
      expectError(await api().solve(r.accountId, SCRIPT_CODE), Code.DeadlineExceeded, "errors/intent_expired");
      const { events } = await watchAccount(expiring, wire, expiring.apiKey, r.accountId).finished();
      expect(kinds(events)).toEqual(["EXPIRED"]);
    });

    it("WhatsApp QR codes that run out unscanned: refreshed codes, then EXPIRED", async () => {
      const r = expectOk(await api().connect(whatsapp()));
      const { events, end } = await watchAccount(expiring, wire, expiring.apiKey, r.accountId).finished(5000);
      expect(end).toEqual({ ok: true });
      const names = kinds(events);
      expect(names[0]).toBe("CHECKPOINT");
      expect(names.at(-1)).toBe("EXPIRED");
      expect(names.slice(1, -1).every((n) => n === "CHECKPOINT_REFRESHED")).toBe(true);
      expect(events.at(-1)!.errorType).toBe("errors/intent_expired");
    });
  });
});
