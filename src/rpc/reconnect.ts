import { create, type MessageInitShape } from "@bufbuild/protobuf";
import type { HandlerContext } from "@connectrpc/connect";
import {
  ConnectAccountRequestSchema,
  ReconnectAccountRequestSchema,
  type ConnectAccountRequest,
  type ReconnectAccountRequest,
  type ReconnectAccountResponseSchema,
} from "../../gen/postpress/accounts/v1/account_service_pb.js";
import type { AccountsService } from "../domain/accounts/accounts-service.ts";
import type { CallScope } from "../domain/accounts/call-scope.ts";
import type { Variant } from "../domain/connectors/connector.ts";
import { checkpointToProto, OBJECT_CHECKPOINT } from "./checkpoints.ts";
import { accountToProto } from "./converters.ts";
import { validateRequest } from "./validation.ts";

/** ReconnectAccount's "object" when the account has its new credentials. */
export const OBJECT_ACCOUNT_RECONNECTED = "AccountReconnected";

/** ReconnectAccount, proto ↔ domain: the request's variant and options are a ConnectAccountRequest's. */
export function reconnectHandler(accounts: AccountsService, scopeOf: (ctx: HandlerContext, maxMs: number) => CallScope, maxMs: number) {
  return {
    async reconnectAccount(req: ReconnectAccountRequest, ctx: HandlerContext): Promise<MessageInitShape<typeof ReconnectAccountResponseSchema>> {
      await validateRequest(ReconnectAccountRequestSchema, req);
      const outcome = await accounts.reconnect(req.accountId, connectRequestOf(req), scopeOf(ctx, maxMs));
      return outcome.kind === "created"
        ? { object: OBJECT_ACCOUNT_RECONNECTED, accountId: outcome.account.id, outcome: { case: "accountReconnected", value: { account: accountToProto(outcome.account) } } }
        : { object: OBJECT_CHECKPOINT, accountId: outcome.accountId, outcome: { case: "checkpoint", value: checkpointToProto(outcome.checkpoint) } };
    },
  };
}

function connectRequestOf(req: ReconnectAccountRequest): ConnectAccountRequest & { variant: Variant } {
  const { variant, country, ip, disabledFeatures, restart } = req;
  return create(ConnectAccountRequestSchema, { variant, country, ip, disabledFeatures, restart }) as ConnectAccountRequest & { variant: Variant };
}
