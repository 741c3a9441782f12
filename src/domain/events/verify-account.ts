import type { Logger } from "pino";
import type { Sealer } from "../../crypto/sealer.ts";
import type { AccountRecord, SealedBlob, Store } from "../../store/store.ts";
import { openAccountSecrets } from "../accounts/account-secrets.ts";
import type { Connector, RefreshedToken } from "../connectors/connector.ts";
import { isInteractive, type ConnectorRegistry } from "../connectors/registry.ts";
import type { TokenRefresher } from "../credentials/token-refresher.ts";

export interface VerifyDeps {
  store: Store;
  sealer: Sealer;
  connectors: ConnectorRegistry;
  /** The one refresher of stored OAuth tokens (GetCredentials' too): its lock keeps a check's refresh from racing another. */
  refresher: TokenRefresher;
}

interface CheckCall {
  signal: AbortSignal;
  deadline: Date;
  log: Logger;
}

/**
 * Re-verifies an account with its provider the way it was linked: the sealed request is
 * opened and its one-shot connector runs again (IMAP and SMTP login; OAuth profile). An
 * access token the provider refuses is renewed by the refresher, under the account's lock,
 * which stores it: a check never writes credentials itself. Throws the connector's AppError
 * on failure. Returns false for accounts no one-shot connector can verify (provider sessions
 * behind a gateway): they are left as they are.
 */
export async function verifyAccount(account: AccountRecord, deps: VerifyDeps, call: CheckCall): Promise<boolean> {
  if (account.secrets === null) return false;
  const live = { ...account, secrets: account.secrets };
  const { request } = openAccountSecrets(deps.sealer, account.secrets, account.workspaceId, account.id);
  const connector = deps.connectors.connectorFor(request.variant.case);
  if (isInteractive(connector)) return false;
  await (connector as Connector).connect({
    variant: request.variant.value,
    shared: { country: request.country, ip: request.ip },
    ...call,
    renewAccessToken: (rejected) => renewed(deps.refresher, live, call, rejected),
  });
  return true;
}

async function renewed(refresher: TokenRefresher, account: AccountRecord & { secrets: SealedBlob }, call: CheckCall, rejected: string): Promise<RefreshedToken> {
  const fresh = await refresher.fresh(account, call, rejected);
  return { accessToken: fresh.credentials.accessToken, refreshToken: fresh.credentials.refreshToken, expiresAt: fresh.account.accessTokenExpiresAt ?? undefined, scopes: fresh.scopes };
}
