import type { ConnectAccountRequest } from "../../../gen/postpress/accounts/v1/account_service_pb.js";
import { newId } from "../../ids.ts";
import type { IntentRecord } from "../../store/store.ts";
import type { Variant } from "../connectors/connector.ts";
import { identityKeyOf, variantInfo } from "./variants.ts";

/** A fresh OPEN intent for a connection attempt: who it is for, its pending account id, when it expires. */
export function newIntent(request: ConnectAccountRequest & { variant: Variant }, workspaceId: string, openedAt: Date, ttlMs: number): IntentRecord {
  return {
    id: newId("int_"),
    workspaceId,
    provider: variantInfo[request.variant.case].provider,
    identityKey: identityKeyOf(request.variant, newId),
    accountId: newId("acc_"),
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
