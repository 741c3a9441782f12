import { create } from "@bufbuild/protobuf";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { OutlookAuthSchema } from "../../gen/postpress/accounts/v1/variants_pb.js";
import { loadConfig } from "../../src/config.ts";
import { createOutlookConnector } from "../../src/domain/connectors/outlook/outlook-connector.ts";
import { microsoftAnswers, startFakeMicrosoft, type FakeMicrosoft, type MicrosoftUser } from "../support/oauth/fake-microsoft.ts";
import { watchForLeaks, type RequestContext } from "../support/oauth/harness.ts";
import type { Tokens } from "../support/oauth/token-book.ts";
import { loopbackGuard } from "../support/loopback-guard.ts";

const adele: MicrosoftUser = {
  id: "87d349ed-44d7-43e1-9a83-5f2406dee5bd",
  displayName: "Adele Vance",
  mail: "AdeleV@contoso.com",
  userPrincipalName: "adele.vance@contoso.onmicrosoft.com",
};

describe("Outlook connector", () => {
  let microsoft: FakeMicrosoft;
  let connect: (request: Tokens & { username: string; id: string }, context: RequestContext) => ReturnType<ReturnType<typeof createOutlookConnector>["connect"]>;
  const watch = watchForLeaks();

  beforeAll(async () => {
    microsoft = await startFakeMicrosoft();
    const connector = createOutlookConnector(loadConfig(microsoft.env).oauth, loopbackGuard);
    connect = (request, context) => connector.connect({ variant: create(OutlookAuthSchema, request), ...context });
  });
  afterAll(() => microsoft.close());
  afterEach(() => {
    expect(watch.leaked(microsoft.secrets())).toEqual([]);
    microsoft.reset();
  });

  it("returns the Graph id as providerUserId, with mail and displayName, matching username case-insensitively", async () => {
    const tokens = microsoft.addUser(adele);
    const { context } = watch.request();

    const result = await connect({ ...tokens, id: adele.id, username: "adelev@CONTOSO.com" }, context);

    expect(result).toEqual({ identity: { providerUserId: adele.id, email: "AdeleV@contoso.com", displayName: "Adele Vance" } });
    const [me] = microsoft.requestsTo("me");
    expect(me!.headers.authorization).toBe(`Bearer ${tokens.accessToken}`);
    expect(me!.query.get("$select")).toBe("id,mail,userPrincipalName,displayName");
  });

  it("accepts the userPrincipalName as username, and takes it as the address when mail is null", async () => {
    const noMailbox = { ...adele, id: "5a8b2c3d-0000-4000-8000-000000000001", mail: null };
    const tokens = microsoft.addUser(noMailbox);
    const { context } = watch.request();

    const result = await connect({ ...tokens, id: noMailbox.id, username: "Adele.Vance@contoso.onmicrosoft.com" }, context);

    expect(result.identity).toEqual({ providerUserId: noMailbox.id, email: noMailbox.userPrincipalName, displayName: "Adele Vance" });
  });

  it.each([
    { mismatch: "id", request: { id: "00000000-0000-0000-0000-000000000000", username: adele.mail! } },
    { mismatch: "username", request: { id: adele.id, username: "someone.else@contoso.com" } },
    { mismatch: "id,username", request: { id: "00000000-0000-0000-0000-000000000000", username: "someone.else@contoso.com" } },
  ])("answers account_mismatch naming $mismatch, without echoing what Graph returned", async ({ mismatch, request }) => {
    const { context } = watch.request();

    const error = await watch.failure(connect({ ...microsoft.addUser(adele), ...request }, context), context);

    expect(error.kind).toBe("account_mismatch");
    expect(error.metadata).toEqual({ provider: "microsoft", mismatch });
    for (const field of mismatch.split(",")) expect(error.message).toContain(`\`${field}\``);
    for (const returned of [adele.id, adele.mail!, adele.userPrincipalName]) {
      if (!Object.values(request).includes(returned)) expect(error.message.toLowerCase()).not.toContain(returned.toLowerCase());
    }
  });

  it("asks for the Graph scope on a refresh and keeps the rotated refresh token", async () => {
    const tokens = microsoft.addUser(adele);
    microsoft.expire(tokens.accessToken);
    const { context } = watch.request();

    const result = await connect({ ...tokens, id: adele.id, username: adele.userPrincipalName }, context);

    expect(microsoft.requestsTo("token")[0]!.form.scope).toBe("https://graph.microsoft.com/.default offline_access");
    const { accessToken, refreshToken } = result.updatedSecrets ?? {};
    expect(refreshToken).toBeDefined();
    expect(refreshToken).not.toBe(tokens.refreshToken);
    // The rotated refresh token is one the identity platform honours.
    microsoft.expire(accessToken!);
    const again = await connect({ accessToken: accessToken!, refreshToken: refreshToken!, id: adele.id, username: adele.userPrincipalName }, watch.request().context);
    expect(again.identity.providerUserId).toBe(adele.id);
  });

  it("checks the account after a refresh too", async () => {
    const tokens = microsoft.addUser(adele);
    microsoft.expire(tokens.accessToken);
    const { context } = watch.request();

    const error = await watch.failure(connect({ ...tokens, id: adele.id, username: "mallory@contoso.com" }, context), context);

    expect(error.kind).toBe("account_mismatch");
  });

  it("answers insufficient_permissions when Graph denies /me (403 Authorization_RequestDenied)", async () => {
    microsoft.script("me", microsoftAnswers.accessDenied);
    const { context } = watch.request();

    const error = await watch.failure(connect({ ...microsoft.addUser(adele), id: adele.id, username: adele.mail! }, context), context);

    expect(error.kind).toBe("insufficient_permissions");
    expect(error.metadata).toMatchObject({ provider: "microsoft", status: "403", providerReason: "Authorization_RequestDenied" });
  });
});
