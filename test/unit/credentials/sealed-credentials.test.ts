import { create, equals, fromJson, toBinary } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { ConnectAccountRequestSchema, type ConnectAccountRequest } from "../../../gen/postpress/accounts/v1/account_service_pb.js";
import { AuthenticationStateSchema, StartAuthenticationRequestSchema } from "../../../gen/postpress/gateway/v1/gateway_pb.js";
import { OauthProvider, SealedCredentialsSchema, WebLoginVariant } from "../../../gen/postpress/credentials/v1/credentials_pb.js";
import { parseKeyring } from "../../../src/crypto/keyring.ts";
import { createSealer, sealingAad } from "../../../src/crypto/sealer.ts";
import { openAccountSecrets, sealAccountSecrets } from "../../../src/domain/accounts/account-secrets.ts";
import type { Variant } from "../../../src/domain/connectors/connector.ts";
import { connectRequestOf, credentialsOfRequest } from "../../../src/domain/credentials/connect-request.ts";
import { LEGACY_SESSION_FIELD } from "../../../src/domain/credentials/legacy-request-form.ts";
import { isDomainForm, openCredentials, sealCredentials } from "../../../src/domain/credentials/sealed-credentials.ts";
import { AppError } from "../../../src/errors/app-error.ts";
import { PLANTED_SESSION, plantedSecrets, VARIANT_REQUESTS } from "../../support/connect-requests.ts";
import { keyEntry } from "../crypto/keys.ts";

const sealer = createSealer(parseKeyring(keyEntry("k1").entry));
const WS = "ws_1";
const ID = "acc_01";

function request(variant: string): ConnectAccountRequest & { variant: Variant } {
  return fromJson(ConnectAccountRequestSchema, VARIANT_REQUESTS[variant]!) as ConnectAccountRequest & { variant: Variant };
}

/** What main (39be888) sealed: the request's binary form, the session as JSON in field 1000. */
function legacySeal(req: ConnectAccountRequest, session?: { format: string; data: string }) {
  const copy = { ...req, $unknown: session ? [{ no: LEGACY_SESSION_FIELD, wireType: WireType.LengthDelimited, data: new BinaryWriter().bytes(new TextEncoder().encode(JSON.stringify({ v: 1, ...session }))).finish() }] : [] };
  return sealer.seal(toBinary(ConnectAccountRequestSchema, copy), sealingAad(WS, ID));
}

describe("the domain's sealed credentials", () => {
  it.each(Object.keys(VARIANT_REQUESTS))("%s: request → domain → request is lossless, through the seal", (variant) => {
    const req = request(variant);
    const opened = openAccountSecrets(sealer, sealAccountSecrets(sealer, { request: req }, WS, ID), WS, ID);
    expect(equals(ConnectAccountRequestSchema, opened.request, req)).toBe(true);
    expect(opened.session).toBeUndefined();
  });

  it.each(Object.keys(VARIANT_REQUESTS))("%s: a legacy row (main's request form) opens to the same credentials as the domain form", (variant) => {
    const req = request(variant);
    const legacy = openCredentials(sealer, legacySeal(req, PLANTED_SESSION), WS, ID);
    const current = openCredentials(sealer, sealCredentials(sealer, { ...credentialsOfRequest(req), session: PLANTED_SESSION }, WS, ID), WS, ID);
    expect(legacy).toEqual(current);
    expect(current.session).toEqual(PLANTED_SESSION);
  });

  it("groups variants by family: mail, OAuth with its provider, web login with its variant and proxy", () => {
    const mail = credentialsOfRequest(request("mail")).credentials;
    expect(mail.family.case).toBe("mail");
    expect(mail.family.case === "mail" && mail.family.value.imapPassword).toBe("planted-imap-password");
    const outlook = credentialsOfRequest(request("outlook")).credentials;
    expect(outlook.family.case === "oauth" && [outlook.family.value.provider, outlook.family.value.refreshToken]).toEqual([OauthProvider.MICROSOFT, "planted-outlook-refresh"]);
    const messenger = credentialsOfRequest(request("messengerSession"));
    expect(messenger.credentials.family.case === "webLogin" && messenger.credentials.family.value.variant).toBe(WebLoginVariant.MESSENGER_SESSION);
    expect(messenger.credentials.proxy?.password).toBe("planted-proxy-password");
    expect(credentialsOfRequest(request("linkedinBasic")).settings.disabledFeatures).toEqual(["LINKEDIN_RECRUITER"]);
  });

  it("writes the domain form (marked, versioned), reads both, and the sealed bytes hold no secret", () => {
    for (const variant of Object.keys(VARIANT_REQUESTS)) {
      const blob = sealCredentials(sealer, { ...credentialsOfRequest(request(variant)), session: PLANTED_SESSION }, WS, ID);
      expect(isDomainForm(sealer.open(blob, sealingAad(WS, ID)))).toBe(true);
      expect(isDomainForm(sealer.open(legacySeal(request(variant)), sealingAad(WS, ID)))).toBe(false);
      const bytes = blob.envelope.toString("latin1");
      for (const secret of plantedSecrets()) expect(bytes).not.toContain(secret);
    }
  });

  it("refuses a schema version it does not know, naming no value", () => {
    const body = toBinary(SealedCredentialsSchema, create(SealedCredentialsSchema, { schemaVersion: 2, credentials: credentialsOfRequest(request("mail")).credentials }));
    const blob = sealer.seal(Buffer.concat([Buffer.from([0]), body]), sealingAad(WS, ID));
    const error = (() => {
      try {
        openCredentials(sealer, blob, WS, ID);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(AppError);
    expect((error as Error).message).toMatch(/schema version 2/);
    expect(String((error as Error).message)).not.toContain("planted");
  });

  it("seals an OAuth access token's expiry with the tokens (and ignores it for other families)", () => {
    const at = new Date("2026-12-02T10:00:00.123Z");
    const google = openCredentials(sealer, sealAccountSecrets(sealer, { request: request("googleOauth"), accessTokenExpiresAt: at }, WS, ID), WS, ID).credentials.family;
    expect(google.case === "oauth" && google.value.accessTokenExpiresAt && timestampDate(google.value.accessTokenExpiresAt)).toEqual(at);
    const mail = openAccountSecrets(sealer, sealAccountSecrets(sealer, { request: request("mail"), accessTokenExpiresAt: at }, WS, ID), WS, ID);
    expect(equals(ConnectAccountRequestSchema, mail.request, request("mail"))).toBe(true);
  });

  it("is what the gateway contract carries: no field of it is the accounts API's request", () => {
    const types = (schema: typeof StartAuthenticationRequestSchema | typeof AuthenticationStateSchema) => schema.fields.map((f) => f.message?.typeName).filter(Boolean);
    expect(types(StartAuthenticationRequestSchema)).toEqual(["postpress.credentials.v1.Credentials", "postpress.credentials.v1.ConnectSettings"]);
    expect(types(AuthenticationStateSchema)).toContain("postpress.credentials.v1.ProviderSession");
    expect(StartAuthenticationRequestSchema.fields.map((f) => f.name)).not.toContain("request");
  });

  it("keeps the credentials bound to their record: another id cannot open them", () => {
    const blob = sealCredentials(sealer, credentialsOfRequest(request("googleOauth")), WS, ID);
    expect(() => openCredentials(sealer, blob, WS, "acc_other")).toThrow(/failed authentication/);
    expect(connectRequestOf(openCredentials(sealer, blob, WS, ID)).variant.case).toBe("googleOauth");
  });
});
