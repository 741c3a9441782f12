import type { Logger } from "pino";
import type { Sealer } from "../../crypto/sealer.ts";
import type { AccountRecord, Store } from "../../store/store.ts";
import { openAccountSecrets, sealAccountSecrets } from "../accounts/account-secrets.ts";
import { withUpdatedSecrets } from "../accounts/connected-account.ts";
import type { Connector } from "../connectors/connector.ts";
import { isInteractive, type ConnectorRegistry } from "../connectors/registry.ts";

export interface VerifyDeps {
  store: Store;
  sealer: Sealer;
  connectors: ConnectorRegistry;
}

/**
 * Re-verifies an account with its provider the way it was linked: the sealed request is
 * opened and its one-shot connector runs again (IMAP and SMTP login; OAuth token refresh and
 * profile). A token the provider renewed is sealed back at once. Throws the connector's
 * AppError on failure. Returns false for accounts no one-shot connector can verify (provider
 * sessions behind a gateway): they are left as they are.
 */
export async function verifyAccount(account: AccountRecord, deps: VerifyDeps, context: { signal: AbortSignal; deadline: Date; log: Logger; now: Date }): Promise<boolean> {
  if (account.secrets === null) return false;
  const { request, session } = openAccountSecrets(deps.sealer, account.secrets, account.workspaceId, account.id);
  const connector = deps.connectors.connectorFor(request.variant.case);
  if (isInteractive(connector)) return false;
  const result = await (connector as Connector).connect({
    variant: request.variant.value,
    shared: { country: request.country, ip: request.ip },
    signal: context.signal,
    deadline: context.deadline,
    log: context.log,
  });
  if (result.updatedSecrets) {
    const renewed = withUpdatedSecrets(request, result.updatedSecrets) as typeof request;
    const expiresAt = result.accessTokenExpiresAt ? { accessTokenExpiresAt: result.accessTokenExpiresAt } : {};
    const sealed = sealAccountSecrets(deps.sealer, { request: renewed, ...(session ? { session } : {}), ...expiresAt }, account.workspaceId, account.id);
    await deps.store.updateAccountSecrets(account.workspaceId, account.id, sealed, result.accessTokenExpiresAt ?? null, context.now);
  }
  return true;
}
