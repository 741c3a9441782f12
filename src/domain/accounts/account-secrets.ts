import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ConnectAccountRequest } from "../../../gen/postpress/accounts/v1/account_service_pb.js";
import type { Sealer } from "../../crypto/sealer.ts";
import { AppError } from "../../errors/app-error.ts";
import type { SealedBlob, Store } from "../../store/store.ts";
import type { Variant } from "../connectors/connector.ts";
import type { ProviderSession } from "../connectors/interactive.ts";
import { connectRequestOf, credentialsOfRequest } from "../credentials/connect-request.ts";
import { openCredentials, sealCredentials, type StoredCredentials } from "../credentials/sealed-credentials.ts";

/**
 * An account's (or waiting intent's) secrets as an accounts-API request: for the code that
 * still speaks the request (connectors, the engine, the gateway contract). At rest they are
 * the domain's credentials (src/domain/credentials/sealed-credentials.ts); new readers use
 * openCredentials / readAccountCredentials, which answer that type directly.
 */
export interface AccountSecrets {
  request: ConnectAccountRequest & { variant: Variant };
  session?: ProviderSession;
  /** OAuth: when the access token in the request expires, if the provider said (sealed with the tokens). */
  accessTokenExpiresAt?: Date;
}

/** Seals a request's credentials in the domain form (the request's `restart` flag is not kept). */
export function sealAccountSecrets(sealer: Sealer, secrets: AccountSecrets, workspaceId: string, recordId: string): SealedBlob {
  const stored = credentialsOfRequest(secrets.request);
  const { family } = stored.credentials;
  if (family.case === "oauth" && secrets.accessTokenExpiresAt) family.value.accessTokenExpiresAt = timestampFromDate(secrets.accessTokenExpiresAt);
  return sealCredentials(sealer, { ...stored, ...(secrets.session ? { session: secrets.session } : {}) }, workspaceId, recordId);
}

/** Opens sealed secrets (either form) as a request. Prefer openCredentials in new code. */
export function openAccountSecrets(sealer: Sealer, blob: SealedBlob, workspaceId: string, recordId: string): AccountSecrets {
  const stored = openCredentials(sealer, blob, workspaceId, recordId);
  return { request: connectRequestOf(stored), ...(stored.session ? { session: stored.session } : {}) };
}

/**
 * An account's credentials, opened: for an internal reader (GetCredentials, a driver host
 * resuming its session). not_found for a missing, deleted or other workspace's account. The
 * result is a secret: never log it, never answer it outside the credentials API.
 */
export async function readAccountCredentials(store: Store, sealer: Sealer, workspaceId: string, accountId: string): Promise<StoredCredentials> {
  const account = await store.getAccount(workspaceId, accountId);
  if (!account?.secrets || account.status === "DELETED") throw new AppError("not_found", { metadata: { accountId } });
  return openCredentials(sealer, account.secrets, workspaceId, accountId);
}

