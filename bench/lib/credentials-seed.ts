import { createApiKey } from "../../src/auth/workspaces.ts";
import type { Sealer } from "../../src/crypto/sealer.ts";
import type { Store } from "../../src/store/store.ts";
import { seedAccount } from "../../test/credentials/support.ts";

/**
 * For the GetCredentials scenario: an Outlook account whose access token is good for a day
 * (so every call answers the cached token, no refresh), sealed as ConnectAccount seals it (the
 * tests' own seeding), and a key of the workspace with the scope credentials:read.
 */
export async function seedCredentialsAccount(store: Store, sealer: Sealer, workspace: { id: string; name: string }): Promise<{ accountId: string; apiKey: string }> {
  const tokens = { accessToken: `eyJ0eXAiOiJKV1Qi.bench.${"a".repeat(1200)}`, refreshToken: `M.C5bench_BAY.${"r".repeat(300)}` };
  const account = await seedAccount(
    store,
    sealer,
    workspace.id,
    { variant: { case: "outlook", value: { ...tokens, id: "bench-graph-id", username: "bench@contoso.com" } } },
    { provider: "OUTLOOK", providerUserId: "bench-graph-id", accessTokenExpiresAt: new Date(Date.now() + 86_400_000) },
  );
  const { token } = await createApiKey(store, workspace.name, "bench-credentials", ["credentials:read"]);
  return { accountId: account.id, apiKey: token };
}
