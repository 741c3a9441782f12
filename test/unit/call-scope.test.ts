import { createContextValues, createHandlerContext } from "@connectrpc/connect";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { AccountService } from "../../gen/postpress/accounts/v1/account_service_pb.js";
import { AppError } from "../../src/errors/app-error.ts";
import { scopeOf } from "../../src/rpc/accounts.ts";
import { CALL_ENDED, callKey, createCallPipeline } from "../../src/rpc/call.ts";
import type { Store } from "../../src/store/store.ts";

/** What a call's scope signal says when the transport aborts the call: ended (answered) or canceled. */
describe("scopeOf", () => {
  const pipeline = createCallPipeline({ store: {} as Store, log: pino({ level: "silent" }), apiKeyCacheMs: 0 });
  const method = AccountService.method.getAccount;

  function scoped() {
    const call = pipeline.begin(method, "grpc", () => undefined);
    call.caller = { workspaceId: "ws_1", keyId: "key_1", scopes: new Set() };
    const ctx = createHandlerContext({
      service: AccountService,
      method,
      protocolName: "grpc",
      requestMethod: "POST",
      url: "/",
      contextValues: createContextValues().set(callKey, call),
    });
    return { call, ctx, scope: scopeOf(ctx, 60_000) };
  }

  it("once the call is answered, aborts with the shared CALL_ENDED: no error made per call", () => {
    const { call, ctx, scope } = scoped();
    pipeline.finish(call);
    ctx.abort();
    expect(scope.signal.reason).toBe(CALL_ENDED);
  });

  it("before it is answered, an abort is the caller canceling", () => {
    const { ctx, scope } = scoped();
    ctx.abort();
    expect(scope.signal.reason).toBeInstanceOf(AppError);
    expect(scope.signal.reason).not.toBe(CALL_ENDED);
    expect((scope.signal.reason as AppError).kind).toBe("request_canceled");
  });
});
