import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { ConnectSettingsSchema, ProviderSessionSchema, SealedCredentialsSchema, type ConnectSettings, type Credentials } from "../../../gen/postpress/credentials/v1/credentials_pb.js";
import { sealingAad, type Sealer } from "../../crypto/sealer.ts";
import { AppError } from "../../errors/app-error.ts";
import type { SealedBlob } from "../../store/store.ts";
import type { ProviderSession } from "../connectors/interactive.ts";
import { credentialsOfRequest } from "./connect-request.ts";
import { decodeLegacyRequestForm } from "./legacy-request-form.ts";

/**
 * What an account (or a waiting intent) keeps sealed: the domain's credentials
 * (credentials.proto, per provider family, with the proxy), the settings the login was asked
 * with, and the provider session a driver login ended with. A secret: never log it, never
 * answer it.
 */
export interface StoredCredentials {
  credentials: Credentials;
  settings: ConnectSettings;
  session?: ProviderSession;
}

/** The schema_version this code writes, and the only one it reads. */
const CREDENTIALS_SCHEMA_VERSION = 1;

/**
 * First plaintext byte of the domain form. A protobuf encoding never starts with 0 (field
 * number 0 does not exist), so no legacy ConnectAccountRequest does: one byte tells the two
 * forms apart without trying to parse either.
 */
const DOMAIN_FORM_MARK = 0x00;

export function sealCredentials(sealer: Sealer, stored: StoredCredentials, workspaceId: string, recordId: string): SealedBlob {
  const message = create(SealedCredentialsSchema, {
    schemaVersion: CREDENTIALS_SCHEMA_VERSION,
    credentials: stored.credentials,
    settings: stored.settings,
    session: stored.session ? create(ProviderSessionSchema, stored.session) : undefined,
  });
  const body = toBinary(SealedCredentialsSchema, message);
  const plaintext = new Uint8Array(body.length + 1);
  plaintext[0] = DOMAIN_FORM_MARK;
  plaintext.set(body, 1);
  try {
    return sealer.seal(plaintext, sealingAad(workspaceId, recordId));
  } finally {
    plaintext.fill(0);
    body.fill(0);
  }
}

/**
 * THE way to read sealed credentials (of an account, under its id, or of a waiting intent,
 * under the intent's id): opens the blob and answers the domain's type, whichever form the row
 * is in — the domain form, or the legacy ConnectAccountRequest form of rows `secrets migrate`
 * has not rewritten yet. Throws SealError when the blob cannot be opened.
 */
export function openCredentials(sealer: Sealer, blob: SealedBlob, workspaceId: string, recordId: string): StoredCredentials {
  const plaintext = sealer.open(blob, sealingAad(workspaceId, recordId));
  try {
    return decodeCredentials(plaintext);
  } finally {
    plaintext.fill(0);
  }
}

/** Whether an opened plaintext is in the domain form (as opposed to the legacy request form). */
export function isDomainForm(plaintext: Uint8Array): boolean {
  return plaintext[0] === DOMAIN_FORM_MARK;
}

/**
 * Decodes an opened plaintext in either form. Anything malformed is an AppError naming no
 * value: a parser's own message (JSON.parse quotes the text around the fault) is dropped.
 */
export function decodeCredentials(plaintext: Uint8Array): StoredCredentials {
  try {
    return decodeEitherForm(plaintext);
  } catch (e) {
    if (e instanceof AppError) throw e;
    throw new AppError("unexpected_error", { detail: "The sealed credentials cannot be decoded." });
  }
}

function decodeEitherForm(plaintext: Uint8Array): StoredCredentials {
  if (!isDomainForm(plaintext)) {
    const { request, session } = decodeLegacyRequestForm(plaintext);
    return { ...credentialsOfRequest(request), ...(session ? { session } : {}) };
  }
  const message = fromBinary(SealedCredentialsSchema, plaintext.subarray(1));
  if (message.schemaVersion !== CREDENTIALS_SCHEMA_VERSION) {
    throw new AppError("unexpected_error", { detail: `The sealed credentials have schema version ${message.schemaVersion}, which this version does not know.` });
  }
  if (!message.credentials || message.credentials.family.case === undefined) throw new AppError("unexpected_error", { detail: "The sealed credentials name no provider family." });
  return {
    credentials: message.credentials,
    settings: message.settings ?? create(ConnectSettingsSchema),
    ...(message.session ? { session: { format: message.session.format, data: message.session.data } } : {}),
  };
}
