import { create, toJson, type JsonObject } from "@bufbuild/protobuf";
import { AccountOptionsSchema, type AccountOptions } from "../../../gen/postpress/accounts/v1/account_pb.js";
import type { ConnectAccountRequest } from "../../../gen/postpress/accounts/v1/account_service_pb.js";
import type { HistorySyncLimit, Proxy } from "../../../gen/postpress/accounts/v1/options_pb.js";
import type { Variant } from "../connectors/connector.ts";

/** The option fields some variants carry; which ones is the contract's business (variants.proto). */
type VariantOptionFields = Partial<{
  syncLimit: HistorySyncLimit | number;
  proxy: Proxy;
  userAgent: string;
  recruiterContractId: string;
}>;

/**
 * The non-secret options an account keeps: everything the request said about how to
 * connect, except credentials and the proxy password (which live in the sealed blob).
 */
export function accountOptionsOf(request: ConnectAccountRequest & { variant: Variant }): AccountOptions {
  const v = request.variant.value as VariantOptionFields;
  return create(AccountOptionsSchema, {
    country: request.country.toUpperCase(),
    ip: request.ip,
    disabledFeatures: request.disabledFeatures,
    historySyncLimit: typeof v.syncLimit === "object" ? v.syncLimit : undefined,
    mailSyncLimit: typeof v.syncLimit === "number" ? v.syncLimit : undefined,
    proxy: v.proxy
      ? { protocol: v.proxy.protocol, host: v.proxy.host, port: v.proxy.port, username: v.proxy.username, hasPassword: v.proxy.password !== "" }
      : undefined,
    userAgent: v.userAgent ?? "",
    recruiterContractId: v.recruiterContractId ?? "",
  });
}

export function accountOptionsToJson(options: AccountOptions): JsonObject {
  return toJson(AccountOptionsSchema, options) as JsonObject;
}
