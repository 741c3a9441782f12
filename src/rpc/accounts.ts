import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import {
  AccountService,
  ConnectAccountRequestSchema,
  DeleteAccountRequestSchema,
  GetAccountRequestSchema,
  ListAccountsRequestSchema,
} from "../../gen/postpress/accounts/v1/account_service_pb.js";
import type { AccountsService } from "../domain/accounts/accounts-service.ts";
import type { CallScope } from "../domain/accounts/call-scope.ts";
import { innerDeadline } from "../domain/deadline.ts";
import type { Variant } from "../domain/connectors/connector.ts";
import { AppError } from "../errors/app-error.ts";
import { CALL_ENDED, callOf } from "./call.ts";
import { checkpointHandlers, outcomeToProto } from "./checkpoints.ts";
import { reconnectHandler } from "./reconnect.ts";
import { accountToProto, decodePageToken, encodePageToken, providerFilter, statusFilter } from "./converters.ts";
import { validateRequest } from "./validation.ts";

/** Upper bound on one ConnectAccount, whatever deadline the caller gave (or none). */
export const MAX_CONNECT_MS = 60_000;

/** AccountService: proto ↔ domain, nothing more. Both transports serve this one object. */
export function createAccountServiceImpl(accounts: AccountsService): ServiceImpl<typeof AccountService> {
  return {
    async connectAccount(req, ctx) {
      await validateRequest(ConnectAccountRequestSchema, req);
      return outcomeToProto(await accounts.begin(req as typeof req & { variant: Variant }, scopeOf(ctx, MAX_CONNECT_MS)));
    },
    async getAccount(req, ctx) {
      await validateRequest(GetAccountRequestSchema, req);
      const call = callOf(ctx);
      return { account: accountToProto(await accounts.get(call.caller.workspaceId, req.accountId, () => call.log)) };
    },
    async listAccounts(req, ctx) {
      await validateRequest(ListAccountsRequestSchema, req);
      const page = await accounts.list(callOf(ctx).caller.workspaceId, {
        pageSize: req.pageSize,
        afterId: decodePageToken(req.pageToken),
        provider: providerFilter(req.provider),
        status: statusFilter(req.status),
      });
      return { accounts: page.accounts.map(accountToProto), nextPageToken: encodePageToken(page.nextAfterId) };
    },
    async deleteAccount(req, ctx) {
      await validateRequest(DeleteAccountRequestSchema, req);
      return { account: accountToProto(await accounts.delete(callOf(ctx).caller.workspaceId, req.accountId)) };
    },
    ...checkpointHandlers(accounts, scopeOf, MAX_CONNECT_MS),
    ...reconnectHandler(accounts, scopeOf, MAX_CONNECT_MS),
  };
}

/**
 * The domain's view of the call: its workspace, and a signal that aborts with a catalogue
 * error when the caller's deadline (capped at `maxMs`) passes or the caller goes away.
 */
export function scopeOf(ctx: HandlerContext, maxMs: number): CallScope {
  const call = callOf(ctx);
  const now = Date.now();
  // The domain stops a little before the caller's deadline (the service's one deadline policy):
  // it still has to close the intent and answer, and at the deadline itself grpc-js (and the
  // caller's own timer) answer a bare DEADLINE_EXCEEDED without our ErrorInfo.
  const deadline = innerDeadline(new Date(now + Math.min(ctx.timeoutMs() ?? maxMs, maxMs)), now);
  const controller = new AbortController();
  const timeout = () => controller.abort(new AppError("request_timeout", { detail: "The request deadline passed." }));
  // A timer cleared when the call ends (AbortSignal.timeout's cannot be: a busy server would keep one per finished call).
  const timer = setTimeout(timeout, deadline.getTime() - now);
  const onAbort = () => {
    clearTimeout(timer);
    // Both transports abort the call's signal once it is answered.
    if (call.ended) return controller.abort(CALL_ENDED);
    // The runtime's own signal fires at the caller's deadline too, which is past ours: name it for what it was.
    if (Date.now() >= deadline.getTime() || (ctx.timeoutMs() ?? 1) <= 0) return timeout();
    controller.abort(new AppError("request_canceled"));
  };
  if (ctx.signal.aborted) onAbort();
  else ctx.signal.addEventListener("abort", onAbort, { once: true });
  controller.signal.addEventListener("abort", () => clearTimeout(timer), { once: true });
  return {
    workspaceId: call.caller.workspaceId,
    signal: controller.signal,
    deadline,
    // The call's logger is made on first use (most calls log nothing but their rpc line).
    get log() {
      return call.log;
    },
  };
}
