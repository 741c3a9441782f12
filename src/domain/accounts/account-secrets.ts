import { clone, fromBinary, toBinary } from "@bufbuild/protobuf";
import { BinaryReader, BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { ConnectAccountRequestSchema, type ConnectAccountRequest } from "../../../gen/postpress/accounts/v1/account_service_pb.js";
import { sealingAad, type Sealer } from "../../crypto/sealer.ts";
import { AppError } from "../../errors/app-error.ts";
import type { SealedBlob, Store } from "../../store/store.ts";
import type { Variant } from "../connectors/connector.ts";
import type { ProviderSession } from "../connectors/interactive.ts";

/**
 * What an account's sealed blob holds: the request that connected it (secrets renewed by the
 * connector included) and, for driver logins, the provider session they ended with.
 *
 * The envelope is the ConnectAccountRequest's own binary form, so every row ever written
 * reads as one; the session rides in field SESSION_FIELD (reserved in the proto for this),
 * as versioned JSON. Rows without it (all rows before sessions existed) have no session.
 */
export interface AccountSecrets {
  request: ConnectAccountRequest & { variant: Variant };
  session?: ProviderSession;
}

/** Reserved in ConnectAccountRequest (account_service.proto): never a caller's field. */
export const SESSION_FIELD = 1000;
const SESSION_FORMAT_VERSION = 1;

export function sealAccountSecrets(sealer: Sealer, secrets: AccountSecrets, workspaceId: string, accountId: string): SealedBlob {
  const payload = clone(ConnectAccountRequestSchema, secrets.request);
  // Whatever unknown fields a caller sent are not ours to keep; the session field least of all.
  payload.$unknown = [];
  if (secrets.session) {
    const json = JSON.stringify({ v: SESSION_FORMAT_VERSION, format: secrets.session.format, data: secrets.session.data });
    payload.$unknown.push({ no: SESSION_FIELD, wireType: WireType.LengthDelimited, data: new BinaryWriter().bytes(new TextEncoder().encode(json)).finish() });
  }
  return sealer.seal(toBinary(ConnectAccountRequestSchema, payload), sealingAad(workspaceId, accountId));
}

export function openAccountSecrets(sealer: Sealer, blob: SealedBlob, workspaceId: string, accountId: string): AccountSecrets {
  const request = fromBinary(ConnectAccountRequestSchema, sealer.open(blob, sealingAad(workspaceId, accountId))) as AccountSecrets["request"];
  const field = request.$unknown?.find((f) => f.no === SESSION_FIELD);
  request.$unknown = [];
  if (!field) return { request };
  const parsed = JSON.parse(new TextDecoder().decode(new BinaryReader(field.data).bytes())) as { v?: unknown; format?: unknown; data?: unknown };
  if (parsed.v !== SESSION_FORMAT_VERSION || typeof parsed.format !== "string" || typeof parsed.data !== "string") {
    throw new AppError("unexpected_error", { detail: "The sealed provider session has an unknown format." });
  }
  return { request, session: { format: parsed.format, data: parsed.data } };
}

/**
 * An account's secrets, opened: for a driver host resuming the provider session after a
 * restart. not_found for a missing, deleted or other workspace's account. The result is a
 * secret: never log it, never answer it.
 */
export async function readAccountSecrets(store: Store, sealer: Sealer, workspaceId: string, accountId: string): Promise<AccountSecrets> {
  const account = await store.getAccount(workspaceId, accountId);
  if (!account?.secrets || account.status === "DELETED") throw new AppError("not_found", { metadata: { accountId } });
  return openAccountSecrets(sealer, account.secrets, workspaceId, accountId);
}
