import type { Timestamp } from "@bufbuild/protobuf/wkt";
import {
  AccountStatus,
  AuthMethod,
  Provider,
  type Account,
} from "../../gen/postpress/accounts/v1/account_pb.js";
import { AppError } from "../errors/app-error.ts";
import type { AccountStatus as StoredStatus, AccountSummary } from "../store/store.ts";
import { accountOptionsFromStored } from "./stored-options.ts";

/**
 * Stored record → API message. Secrets are not in the record's readable part, so none can leak here.
 * Written as the message itself rather than through create(): a page of accounts is built on
 * every ListAccounts, and create's field-by-field initialisation was a third of this function.
 * The Account type names every field, so the compiler holds this to the schema.
 */
export function accountToProto(record: AccountSummary): Account {
  const account: Account = {
    $typeName: "postpress.accounts.v1.Account",
    id: record.id,
    provider: Provider[record.provider as keyof typeof Provider] ?? Provider.UNSPECIFIED,
    authMethod: AuthMethod[record.authMethod as keyof typeof AuthMethod] ?? AuthMethod.UNSPECIFIED,
    status: AccountStatus[record.status],
    identity: {
      $typeName: "postpress.accounts.v1.ProviderIdentity",
      providerUserId: record.identity.providerUserId,
      displayName: record.identity.displayName ?? "",
      handle: record.identity.handle ?? "",
      email: record.identity.email ?? "",
    },
    options: accountOptionsFromStored(record.options),
    createTime: timestamp(record.createdAt),
    updateTime: timestamp(record.updatedAt),
    statusReason: record.statusReason ?? "",
    statusChangeTime: timestamp(record.statusChangedAt ?? record.updatedAt),
  };
  // Absent when unknown, as create() leaves an unset message field.
  if (record.accessTokenExpiresAt) account.accessTokenExpireTime = timestamp(record.accessTokenExpiresAt);
  return account;
}

/** timestampFromDate without its create() and int64 parsing: four per account, fifty accounts a page. */
function timestamp(date: Date): Timestamp {
  const ms = date.getTime();
  const seconds = Math.floor(ms / 1000);
  return { $typeName: "google.protobuf.Timestamp", seconds: BigInt(seconds), nanos: (ms - seconds * 1000) * 1_000_000 };
}

export function providerFilter(provider: Provider): string | undefined {
  return provider === Provider.UNSPECIFIED ? undefined : Provider[provider];
}

export function statusFilter(status: AccountStatus): StoredStatus | undefined {
  return status === AccountStatus.UNSPECIFIED ? undefined : (AccountStatus[status] as StoredStatus);
}

/** Page tokens are opaque to callers: the last id of the page, encoded. */
export function encodePageToken(afterId: string | undefined): string {
  return afterId ? Buffer.from(afterId).toString("base64url") : "";
}

export function decodePageToken(token: string): string | undefined {
  if (!token) return undefined;
  const afterId = Buffer.from(token, "base64url").toString("utf8");
  if (!/^acc_[0-9A-HJKMNP-TV-Z]{26}$/.test(afterId)) {
    throw new AppError("invalid_parameters", { violations: [{ field: "page_token", description: "not a page token this service issued" }] });
  }
  return afterId;
}
