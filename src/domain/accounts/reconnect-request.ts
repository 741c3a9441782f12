import { clone } from "@bufbuild/protobuf";
import { ConnectAccountRequestSchema, type ConnectAccountRequest } from "../../../gen/postpress/accounts/v1/account_service_pb.js";
import type { Sealer } from "../../crypto/sealer.ts";
import { AppError } from "../../errors/app-error.ts";
import type { AccountRecord, Store } from "../../store/store.ts";
import type { Variant } from "../connectors/connector.ts";
import { openAccountSecrets } from "./account-secrets.ts";
import { notFound } from "./outcomes.ts";
import { variantInfo } from "./variants.ts";

type Request = ConnectAccountRequest & { variant: Variant };

/** The option fields of a variant (account-options.ts keeps the same ones): kept from the account unless given. */
const VARIANT_OPTION_FIELDS = ["syncLimit", "proxy", "userAgent", "recruiterContractId"] as const;

/**
 * What a ReconnectAccount runs through the connect flow: the live account it reconnects, and
 * the request with the new credentials, its unset options filled from the account's sealed
 * request (so the login goes through the account's proxy, from its country, and they are kept).
 * An unknown or deleted account: not_found; another variant than the account's: invalid_parameters.
 */
export async function reconnectRequest(store: Store, sealer: Sealer, workspaceId: string, accountId: string, given: Request): Promise<{ account: AccountRecord; request: Request }> {
  const account = await store.getAccount(workspaceId, accountId);
  if (!account?.secrets || account.status === "DELETED") throw notFound(accountId);
  if (variantInfo[given.variant.case].authMethod !== account.authMethod) throw otherVariant(given.variant.case, account.authMethod);
  const previous = openAccountSecrets(sealer, account.secrets, workspaceId, accountId).request;
  return { account, request: withKeptOptions(given, previous) };
}

function withKeptOptions(given: Request, previous: Request): Request {
  const request = clone(ConnectAccountRequestSchema, given) as Request;
  if (request.country === "") request.country = previous.country;
  if (request.ip === "") request.ip = previous.ip;
  if (request.disabledFeatures.length === 0) request.disabledFeatures = [...previous.disabledFeatures];
  if (previous.variant.case !== request.variant.case) return request;
  const value = request.variant.value as Record<string, unknown>;
  const kept = previous.variant.value as Record<string, unknown>;
  // The same variant on both sides: a field the account's request has set exists on the new one (unset message fields are absent keys).
  for (const field of VARIANT_OPTION_FIELDS) {
    if (unset(value[field]) && !unset(kept[field])) value[field] = kept[field];
  }
  return request;
}

function unset(value: unknown): boolean {
  return value === undefined || value === "" || value === 0;
}

/** The violation names the variant field the caller sent, in the proto's spelling ("google_oauth"). */
function otherVariant(variant: Variant["case"], authMethod: string): AppError {
  const field = ConnectAccountRequestSchema.fields.find((f) => f.localName === variant)?.name ?? variant;
  const description = `the account was connected with ${authMethod}: reconnect it with the same variant`;
  return new AppError("invalid_parameters", { detail: `${field}: ${description}`, violations: [{ field, description }] });
}
