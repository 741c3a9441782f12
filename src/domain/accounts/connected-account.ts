import { clone } from "@bufbuild/protobuf";
import { ConnectAccountRequestSchema, type ConnectAccountRequest } from "../../../gen/postpress/accounts/v1/account_service_pb.js";
import type { Sealer } from "../../crypto/sealer.ts";
import type { AccountRecord, IntentRecord } from "../../store/store.ts";
import type { ConnectorResult, Variant } from "../connectors/connector.ts";
import type { ProviderSession } from "../connectors/interactive.ts";
import { sealAccountSecrets } from "./account-secrets.ts";
import { accountOptionsOf, accountOptionsToJson } from "./account-options.ts";
import { variantInfo } from "./variants.ts";

/**
 * The account an intent turns into once the provider said who it is: non-secret options in
 * clear; the whole request (with any secret the connector renewed) and the provider session a
 * driver ended with, sealed under the account's id (account-secrets.ts).
 */
export function connectedAccount(
  intent: Pick<IntentRecord, "accountId" | "workspaceId" | "provider">,
  request: ConnectAccountRequest & { variant: Variant },
  result: ConnectorResult & { session?: ProviderSession },
  sealer: Sealer,
  at: Date,
): AccountRecord {
  const renewed = withUpdatedSecrets(request, result.updatedSecrets) as ConnectAccountRequest & { variant: Variant };
  return {
    id: intent.accountId,
    workspaceId: intent.workspaceId,
    provider: intent.provider,
    authMethod: variantInfo[request.variant.case].authMethod,
    identity: result.identity,
    status: "CONNECTED",
    options: { ...accountOptionsToJson(accountOptionsOf(request)), ...(result.details ? { connection: result.details } : {}) },
    secrets: sealAccountSecrets(
      sealer,
      { request: renewed, ...(result.session ? { session: result.session } : {}), ...(result.accessTokenExpiresAt ? { accessTokenExpiresAt: result.accessTokenExpiresAt } : {}) },
      intent.workspaceId,
      intent.accountId,
    ),
    accessTokenExpiresAt: result.accessTokenExpiresAt ?? null,
    ...(result.grantedScopes ? { grantedScopes: result.grantedScopes } : {}),
    createdAt: at,
    updatedAt: at,
  };
}

export function withUpdatedSecrets(request: ConnectAccountRequest, updated: Record<string, string> | undefined): ConnectAccountRequest {
  if (!updated) return request;
  const copy = clone(ConnectAccountRequestSchema, request);
  const value = copy.variant.value as Record<string, unknown> | undefined;
  for (const [field, secret] of Object.entries(updated)) {
    if (value && typeof value[field] === "string") value[field] = secret;
  }
  return copy;
}
