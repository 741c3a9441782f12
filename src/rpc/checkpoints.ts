import { create } from "@bufbuild/protobuf";
import { timestampFromDate, timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { HandlerContext } from "@connectrpc/connect";
import {
  AccountEventKind,
  AccountEventSchema,
  CancelCheckpointRequestSchema,
  CheckpointSchema,
  CheckpointType,
  ResendCheckpointRequestSchema,
  SolveCheckpointRequestSchema,
  WatchAccountRequestSchema,
  type AccountEvent,
  type CancelCheckpointRequest,
  type Checkpoint,
  type ResendCheckpointRequest,
  type SolveCheckpointRequest,
  type WatchAccountRequest,
  type WatchAccountResponse,
} from "../../gen/postpress/accounts/v1/account_service_pb.js";
import type { AccountsService } from "../domain/accounts/accounts-service.ts";
import type { CallScope } from "../domain/accounts/call-scope.ts";
import type { WatchEvent } from "../domain/accounts/engine/core/watch-events.ts";
import type { ConnectOutcome } from "../domain/accounts/outcomes.ts";
import type { CheckpointInfo } from "../domain/connectors/interactive.ts";
import { callOf } from "./call.ts";
import { accountToProto } from "./converters.ts";
import { validateRequest } from "./validation.ts";

/** Upper bound on one WatchAccount stream, whatever deadline the caller gave (or none). */
export const MAX_WATCH_MS = 15 * 60_000;

/** The "object" of a response: what happened. */
export const OBJECT_ACCOUNT_CREATED = "AccountCreated";
export const OBJECT_CHECKPOINT = "Checkpoint";
export const OBJECT_CHECKPOINT_CANCELED = "CheckpointCanceled";

/** ConnectAccount, SolveCheckpoint, ResendCheckpoint: the account created, or the checkpoint now waiting (and the original API's "object" beside it). */
export function outcomeToProto(outcome: ConnectOutcome) {
  return outcome.kind === "created"
    ? { object: OBJECT_ACCOUNT_CREATED, accountId: outcome.account.id, outcome: { case: "accountCreated" as const, value: { account: accountToProto(outcome.account) } } }
    : { object: OBJECT_CHECKPOINT, accountId: outcome.accountId, outcome: { case: "checkpoint" as const, value: checkpointToProto(outcome.checkpoint) } };
}

export function checkpointToProto(checkpoint: CheckpointInfo): Checkpoint {
  return create(CheckpointSchema, {
    type: CheckpointType[checkpoint.type],
    qrCode: checkpoint.qrCode ?? "",
    pairingCode: checkpoint.pairingCode ?? "",
    captchaData: checkpoint.captchaData ?? "",
    codeSentTo: checkpoint.codeSentTo ?? "",
    expireTime: checkpoint.expiresAt ? timestampFromDate(new Date(checkpoint.expiresAt)) : undefined,
  });
}

export function eventToProto(event: WatchEvent): AccountEvent {
  return create(AccountEventSchema, {
    kind: AccountEventKind[event.kind],
    accountId: event.accountId,
    checkpoint: event.checkpoint ? checkpointToProto(event.checkpoint) : undefined,
    errorType: event.errorType ?? "",
    eventTime: timestampFromMs(event.at),
  });
}

type ScopeOf = (ctx: HandlerContext, maxMs: number) => CallScope;

/** The checkpoint RPCs of AccountService, proto ↔ domain. */
export function checkpointHandlers(accounts: AccountsService, scopeOf: ScopeOf, maxStepMs: number) {
  return {
    async solveCheckpoint(req: SolveCheckpointRequest, ctx: HandlerContext) {
      await validateRequest(SolveCheckpointRequestSchema, req);
      return outcomeToProto(await accounts.solveCheckpoint(callOf(ctx).caller.workspaceId, req.accountId, req.code, scopeOf(ctx, maxStepMs)));
    },
    async resendCheckpoint(req: ResendCheckpointRequest, ctx: HandlerContext) {
      await validateRequest(ResendCheckpointRequestSchema, req);
      return outcomeToProto(await accounts.resendCheckpoint(callOf(ctx).caller.workspaceId, req.accountId, scopeOf(ctx, maxStepMs)));
    },
    async cancelCheckpoint(req: CancelCheckpointRequest, ctx: HandlerContext) {
      await validateRequest(CancelCheckpointRequestSchema, req);
      await accounts.cancelCheckpoint(callOf(ctx).caller.workspaceId, req.accountId, scopeOf(ctx, maxStepMs));
      return { object: OBJECT_CHECKPOINT_CANCELED, accountId: req.accountId };
    },
    async *watchAccount(req: WatchAccountRequest, ctx: HandlerContext): AsyncGenerator<Partial<WatchAccountResponse>> {
      await validateRequest(WatchAccountRequestSchema, req);
      for await (const event of accounts.watch(callOf(ctx).caller.workspaceId, req.accountId, scopeOf(ctx, MAX_WATCH_MS))) {
        yield { event: eventToProto(event) };
      }
    },
  };
}
