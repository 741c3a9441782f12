import { create, fromJson, type JsonValue } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  AccountOptionsSchema,
  AccountSchema,
  AccountStatus,
  AuthMethod,
  Provider,
  type Account,
} from "../../gen/postpress/accounts/v1/account_pb.js";
import { AppError } from "../errors/app-error.ts";
import type { AccountStatus as StoredStatus, AccountSummary } from "../store/store.ts";

/** Stored record → API message. Secrets are not in the record's readable part, so none can leak here. */
export function accountToProto(record: AccountSummary): Account {
  const { connection: _connection, ...options } = record.options;
  return create(AccountSchema, {
    id: record.id,
    provider: Provider[record.provider as keyof typeof Provider] ?? Provider.UNSPECIFIED,
    authMethod: AuthMethod[record.authMethod as keyof typeof AuthMethod] ?? AuthMethod.UNSPECIFIED,
    status: AccountStatus[record.status],
    identity: {
      providerUserId: record.identity.providerUserId,
      displayName: record.identity.displayName ?? "",
      handle: record.identity.handle ?? "",
      email: record.identity.email ?? "",
    },
    options: fromJson(AccountOptionsSchema, options as JsonValue, { ignoreUnknownFields: true }),
    createTime: timestampFromDate(record.createdAt),
    updateTime: timestampFromDate(record.updatedAt),
    accessTokenExpireTime: record.accessTokenExpiresAt ? timestampFromDate(record.accessTokenExpiresAt) : undefined,
    statusReason: record.statusReason ?? "",
    statusChangeTime: timestampFromDate(record.statusChangedAt ?? record.updatedAt),
  });
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
