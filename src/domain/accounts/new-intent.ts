import type { ConnectAccountRequest } from "../../../gen/postpress/accounts/v1/account_service_pb.js";
import { newId } from "../../ids.ts";
import { reconnectIdentityKey } from "../../store/reconnect-status.ts";
import type { AccountRecord, IntentRecord } from "../../store/store.ts";
import type { Variant } from "../connectors/connector.ts";
import { identityKeyOf, variantInfo } from "./variants.ts";

/** A fresh OPEN intent for a connection attempt: who it is for, its pending account id, when it expires. */
export function newIntent(request: ConnectAccountRequest & { variant: Variant }, workspaceId: string, openedAt: Date, ttlMs: number): IntentRecord {
  return openIntent(workspaceId, variantInfo[request.variant.case].provider, identityKeyOf(request.variant, newId), newId("acc_"), openedAt, ttlMs);
}

/**
 * A fresh OPEN intent reconnecting `account`: it carries the account's own id, and its identity
 * key is the account, so one reconnection of an account is open at a time (auth_in_progress, restart).
 */
export function newReconnectIntent(account: Pick<AccountRecord, "id" | "workspaceId" | "provider">, openedAt: Date, ttlMs: number): IntentRecord {
  return openIntent(account.workspaceId, account.provider, reconnectIdentityKey(account.id), account.id, openedAt, ttlMs);
}

function openIntent(workspaceId: string, provider: string, identityKey: string, accountId: string, openedAt: Date, ttlMs: number): IntentRecord {
  return {
    id: newId("int_"),
    workspaceId,
    provider,
    identityKey,
    accountId,
    status: "OPEN",
    createdAt: openedAt,
    updatedAt: openedAt,
    expiresAt: new Date(openedAt.getTime() + ttlMs),
    closedAt: null,
    errorKind: null,
    state: null,
    secrets: null,
    revision: 0,
  };
}
