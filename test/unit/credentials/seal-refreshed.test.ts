import { clone, equals, fromJson } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { ConnectAccountRequestSchema } from "../../../gen/postpress/accounts/v1/account_service_pb.js";
import { ConnectSettingsSchema } from "../../../gen/postpress/credentials/v1/credentials_pb.js";
import { parseKeyring } from "../../../src/crypto/keyring.ts";
import { createSealer } from "../../../src/crypto/sealer.ts";
import { credentialsOfRequest } from "../../../src/domain/credentials/connect-request.ts";
import { openCredentials as openAnswer, sealRefreshed } from "../../../src/domain/credentials/account-credentials.ts";
import { openCredentials, sealCredentials } from "../../../src/domain/credentials/sealed-credentials.ts";
import type { AccountRecord, SealedBlob } from "../../../src/store/store.ts";
import { PLANTED_SESSION, VARIANT_REQUESTS } from "../../support/connect-requests.ts";
import { keyEntry } from "../crypto/keys.ts";

const sealer = createSealer(parseKeyring(keyEntry("k1").entry));
const WS = "ws_1";
const ID = "acc_01";

/** An Outlook account sealed in the domain form with settings and a session, as a store row would carry it. */
function outlookAccount(): AccountRecord & { secrets: SealedBlob } {
  const request = fromJson(ConnectAccountRequestSchema, { ...VARIANT_REQUESTS.outlook!, country: "FR", ip: "203.0.113.7" });
  const stored = { ...credentialsOfRequest(request), session: PLANTED_SESSION };
  if (stored.credentials.family.case === "oauth") stored.credentials.family.value.scopes = ["Mail.Read"];
  return { workspaceId: WS, id: ID, secrets: sealCredentials(sealer, stored, WS, ID) } as AccountRecord & { secrets: SealedBlob };
}

describe("the refresh write-back re-seals the domain credentials", () => {
  it("replaces the tokens, expiry and scopes and keeps every other field, the settings and the session", () => {
    const account = outlookAccount();
    const before = openCredentials(sealer, account.secrets, WS, ID);
    const expiresAt = new Date("2030-01-02T03:04:05Z");
    const after = openCredentials(sealer, sealRefreshed(sealer, account, { accessToken: "new-access", refreshToken: "new-refresh", expiresAt, scopes: ["Mail.Send"] }), WS, ID);
    if (after.credentials.family.case !== "oauth" || before.credentials.family.case !== "oauth") throw new Error("not OAuth");
    const oauth = after.credentials.family.value;
    expect(oauth.accessToken).toBe("new-access");
    expect(oauth.refreshToken).toBe("new-refresh");
    expect(timestampDate(oauth.accessTokenExpiresAt!)).toEqual(expiresAt);
    expect(oauth.scopes).toEqual(["Mail.Send"]);
    expect({ username: oauth.username, userId: oauth.userId, provider: oauth.provider }).toEqual({ username: before.credentials.family.value.username, userId: before.credentials.family.value.userId, provider: before.credentials.family.value.provider });
    expect(equals(ConnectSettingsSchema, after.settings, before.settings)).toBe(true);
    expect(after.settings.country).toBe("FR");
    expect(after.session).toEqual(PLANTED_SESSION);
  });

  it("keeps the refresh token and scopes when the provider sends none", () => {
    const account = outlookAccount();
    const before = clone(ConnectSettingsSchema, openCredentials(sealer, account.secrets, WS, ID).settings);
    const after = openCredentials(sealer, sealRefreshed(sealer, account, { accessToken: "new-access", refreshToken: undefined, expiresAt: undefined, scopes: [] }), WS, ID);
    if (after.credentials.family.case !== "oauth") throw new Error("not OAuth");
    expect(after.credentials.family.value.refreshToken).toBe("planted-outlook-refresh");
    expect(after.credentials.family.value.scopes).toEqual(["Mail.Read"]);
    expect(after.credentials.family.value.accessTokenExpiresAt).toBeUndefined();
    expect(equals(ConnectSettingsSchema, after.settings, before)).toBe(true);
    expect(openAnswer(sealer, { ...account, secrets: sealRefreshed(sealer, account, { accessToken: "a2", refreshToken: undefined, expiresAt: undefined, scopes: [] }) })).toMatchObject({ kind: "oauth", provider: "microsoft", accessToken: "a2", refreshToken: "planted-outlook-refresh", proxy: undefined });
  });
});
