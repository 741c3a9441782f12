import type { Logger } from "pino";
import { withoutRedaction } from "../../logging.ts";
import type { Caller } from "../../auth/authenticator.ts";
import type { Sealer } from "../../crypto/sealer.ts";
import { AppError, isAppError } from "../../errors/app-error.ts";
import type { MetricsSink } from "../../observability/metrics.ts";
import type { SealedAccount, SealedBlob, Store } from "../../store/store.ts";
import type { CallScope } from "../accounts/call-scope.ts";
import { openCredentials, type Credentials } from "./account-credentials.ts";
import type { TokenRefresher } from "./token-refresher.ts";

/** What GetCredentials answers: the account, its credentials, and for OAuth the token's expiry and scopes. */
export interface CredentialsRead {
  account: SealedAccount & { secrets: SealedBlob };
  credentials: Credentials;
  accessTokenExpiresAt: Date | null;
  /** OAuth: the scopes granted the token (stored with it at its link or last refresh); empty when the provider never said. */
  scopes: string[];
}

export interface CredentialReaderDeps {
  store: Store;
  sealer: Sealer;
  refresher: TokenRefresher;
  /** Where the audit lines go: one per read, never a value. */
  log: Logger;
  metrics: Pick<MetricsSink, "credentialsRead">;
}

/**
 * Reads an account's credentials for an internal service. Each read, answered or refused,
 * writes one audit line (who read which account's what) and is counted; an OAuth token due
 * for renewal is refreshed first (TokenRefresher).
 */
export class CredentialReader {
  private readonly deps: CredentialReaderDeps;
  /**
   * The audit line's fields are ids, names and kinds, never a value: like the per-RPC line, it
   * skips the redaction net (a fifth of a read's CPU). Its constant field is bound once, so
   * pino serialises it once rather than on every line.
   */
  private readonly auditLog: Logger;

  constructor(deps: CredentialReaderDeps) {
    this.deps = deps;
    this.auditLog = withoutRedaction(deps.log).child({ audit: "credentials.read" });
  }

  /** `scope` is made only when a refresh needs the call's deadline and signal (most reads need neither). */
  async read(caller: Caller, accountId: string, includeRefreshToken: boolean, scope: () => CallScope): Promise<CredentialsRead> {
    let kind = "unknown";
    let refreshed = false;
    try {
      const account = await this.deps.store.getSealedAccount(caller.workspaceId, accountId);
      if (!account?.secrets || account.status === "DELETED") throw new AppError("not_found", { metadata: { accountId } });
      if (account.status === "CREDENTIALS_EXPIRED") {
        throw new AppError("invalid_credentials", { detail: "The provider refused the account's credentials: reconnect the account.", metadata: { accountId } });
      }
      const live = { ...account, secrets: account.secrets };
      let read: CredentialsRead = { account: live, credentials: openCredentials(this.deps.sealer, live), accessTokenExpiresAt: account.accessTokenExpiresAt, scopes: account.grantedScopes ?? [] };
      kind = read.credentials.kind;
      if (read.credentials.kind === "oauth" && this.deps.refresher.isDue(account.accessTokenExpiresAt)) {
        const fresh = await this.deps.refresher.fresh(live, scope());
        refreshed = fresh.refreshed;
        read = { account: fresh.account, credentials: fresh.credentials, accessTokenExpiresAt: fresh.account.accessTokenExpiresAt, scopes: fresh.scopes };
      }
      this.audit(caller, accountId, kindsRead(read.credentials, includeRefreshToken), "ok", refreshed);
      return read;
    } catch (error) {
      const outcome = isAppError(error) ? error.kind : "unexpected_error";
      this.audit(caller, accountId, [kind], outcome, refreshed);
      throw error;
    }
  }

  private audit(caller: Caller, accountId: string, kinds: string[], outcome: string, refreshed: boolean): void {
    // Names, ids and kinds only: the values never reach a log line.
    this.auditLog.info({ keyId: caller.keyId, workspace: caller.workspaceId, accountId, kinds, outcome, refreshed }, "credentials read");
    this.deps.metrics.credentialsRead(kinds[0] ?? "unknown", outcome, refreshed);
  }
}

/** What a read handed out, for the audit line: the credentials' kind, and what besides it. */
function kindsRead(credentials: Credentials, includeRefreshToken: boolean): string[] {
  const extra = [...(credentials.kind === "oauth" && includeRefreshToken ? ["refresh_token"] : []), ...(credentials.proxy ? ["proxy"] : [])];
  return [credentials.kind, ...extra];
}
