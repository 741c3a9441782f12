import { fromBinary, toBinary } from "@bufbuild/protobuf";
import type { Logger } from "pino";
import { ConnectAccountRequestSchema } from "../../../gen/postpress/accounts/v1/account_service_pb.js";
import { sealingAad, type Sealer } from "../../crypto/sealer.ts";
import type { AccountRecord, Store } from "../../store/store.ts";
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
  const aad = sealingAad(account.workspaceId, account.id);
  const request = fromBinary(ConnectAccountRequestSchema, deps.sealer.open(account.secrets, aad));
  if (request.variant.case === undefined) return false;
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
    const sealed = deps.sealer.seal(toBinary(ConnectAccountRequestSchema, withUpdatedSecrets(request, result.updatedSecrets)), aad);
    await deps.store.updateAccountSecrets(account.workspaceId, account.id, sealed, result.accessTokenExpiresAt ?? null, context.now);
  }
  return true;
}
