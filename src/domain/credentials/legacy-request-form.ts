import { fromBinary } from "@bufbuild/protobuf";
import { BinaryReader } from "@bufbuild/protobuf/wire";
import { ConnectAccountRequestSchema, type ConnectAccountRequest } from "../../../gen/postpress/accounts/v1/account_service_pb.js";
import { AppError } from "../../errors/app-error.ts";
import type { Variant } from "../connectors/connector.ts";
import type { ProviderSession } from "../connectors/interactive.ts";

/**
 * Reads the sealed form every row had before the domain's own type (sealed-credentials.ts):
 * the accounts API's ConnectAccountRequest in its binary form, with the driver's provider
 * session in field LEGACY_SESSION_FIELD (reserved in account_service.proto) as versioned JSON.
 * Nothing writes this form any more; it is read until `secrets migrate` has rewritten every row.
 */
export const LEGACY_SESSION_FIELD = 1000;
const LEGACY_SESSION_FORMAT_VERSION = 1;

export function decodeLegacyRequestForm(plaintext: Uint8Array): { request: ConnectAccountRequest & { variant: Variant }; session?: ProviderSession } {
  const request = fromBinary(ConnectAccountRequestSchema, plaintext);
  if (request.variant.case === undefined) throw new AppError("unexpected_error", { detail: "The sealed request names no variant." });
  const field = request.$unknown?.find((f) => f.no === LEGACY_SESSION_FIELD);
  request.$unknown = [];
  const typed = request as ConnectAccountRequest & { variant: Variant };
  if (!field) return { request: typed };
  const parsed = JSON.parse(new TextDecoder().decode(new BinaryReader(field.data).bytes())) as { v?: unknown; format?: unknown; data?: unknown };
  if (parsed.v !== LEGACY_SESSION_FORMAT_VERSION || typeof parsed.format !== "string" || typeof parsed.data !== "string") {
    throw new AppError("unexpected_error", { detail: "The sealed provider session has an unknown format." });
  }
  return { request: typed, session: { format: parsed.format, data: parsed.data } };
}
