import { create } from "@bufbuild/protobuf";
import { ConnectAccountRequestSchema } from "../../gen/postpress/accounts/v1/account_service_pb.js";
import { createApiKey } from "../../src/auth/workspaces.ts";
import type { Sealer } from "../../src/crypto/sealer.ts";
import { connectedAccount } from "../../src/domain/accounts/connected-account.ts";
import type { Variant } from "../../src/domain/connectors/connector.ts";
import { newId } from "../../src/ids.ts";
import type { Store } from "../../src/store/store.ts";

/**
 * For the GetCredentials scenario: an Outlook account whose access token is good for a day
 * (so every call answers the cached token, no refresh), sealed as ConnectAccount seals it, and
 * a key of the workspace with the scope credentials:read.
 */
export async function seedCredentialsAccount(store: Store, sealer: Sealer, workspace: { id: string; name: string }): Promise<{ accountId: string; apiKey: string }> {
  const now = new Date();
  const accountId = newId("acc_");
  const intent = {
    id: newId("int_"),
    workspaceId: workspace.id,
    provider: "OUTLOOK",
    identityKey: "bench-outlook",
    accountId,
    status: "OPEN" as const,
    createdAt: now,
    updatedAt: now,
    expiresAt: new Date(now.getTime() + 600_000),
    closedAt: null,
    errorKind: null,
    state: null,
    secrets: null,
    revision: 0,
  };
  await store.openIntent(intent, now);
  const tokens = { accessToken: `eyJ0eXAiOiJKV1Qi.bench.${"a".repeat(1200)}`, refreshToken: `M.C5bench_BAY.${"r".repeat(300)}` };
  const request = create(ConnectAccountRequestSchema, { variant: { case: "outlook", value: { ...tokens, id: "bench-graph-id", username: "bench@contoso.com" } } }) as ReturnType<typeof create<typeof ConnectAccountRequestSchema>> & { variant: Variant };
  const result = { identity: { providerUserId: "bench-graph-id", email: "bench@contoso.com" }, accessTokenExpiresAt: new Date(now.getTime() + 86_400_000) };
  const outcome = await store.insertAccount(connectedAccount(intent, request, result, sealer, now), intent.id, now);
  if (!("inserted" in outcome)) throw new Error(`bench: seeding the credentials account failed: ${JSON.stringify(outcome)}`);
  const { token } = await createApiKey(store, workspace.name, "bench-credentials", ["credentials:read"]);
  return { accountId, apiKey: token };
}
