import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { ConnectAccountRequestSchema, GetAccountRequestSchema, ListAccountsRequestSchema } from "../../../gen/postpress/accounts/v1/account_service_pb.js";
import { ImapEncryption } from "../../../gen/postpress/accounts/v1/variants_pb.js";
import { AppError } from "../../../src/errors/app-error.ts";
import { validateRequest } from "../../../src/rpc/validation.ts";

/** validateRequest in-process: missing-only → missing_parameters, anything else → invalid_parameters. */

async function failure(run: () => Promise<void>): Promise<AppError> {
  try {
    await run();
  } catch (e) {
    if (e instanceof AppError) return e;
    throw e;
  }
  throw new Error("expected a validation failure");
}

const connect = (init: Parameters<typeof create<typeof ConnectAccountRequestSchema>>[1]) => () => validateRequest(ConnectAccountRequestSchema, create(ConnectAccountRequestSchema, init));

describe("validateRequest", () => {
  it("a valid message passes", async () => {
    await expect(connect({ variant: { case: "twitter", value: { username: "a", email: "a@b.co", password: "p" } } })()).resolves.toBeUndefined();
    await expect(validateRequest(GetAccountRequestSchema, create(GetAccountRequestSchema, { accountId: "acc_01HZX3Q4T5V6W7X8Y9Z0ABCDEF" }))).resolves.toBeUndefined();
  });

  it("a missing required field → missing_parameters, one violation named by its path", async () => {
    const e = await failure(connect({ variant: { case: "twitter", value: { username: "a", email: "a@b.co" } } }));
    expect(e.kind).toBe("missing_parameters");
    expect(e.violations).toEqual([{ field: "twitter.password", description: "value is required" }]);
    expect(e.message).toContain("twitter.password");
  });

  it("a zero port and an empty list (proto3 cannot tell them from 'not sent') count as missing", async () => {
    const e = await failure(
      connect({
        variant: { case: "mail", value: { imapUser: "u", smtpUser: "u", imapPassword: "p", smtpPassword: "p", imapHost: "h.example", smtpHost: "h.example", smtpPort: 25, imapEncryption: ImapEncryption.TLS } },
      }),
    );
    expect(e.kind).toBe("missing_parameters");
    expect(e.violations.map((v) => v.field)).toEqual(["mail.imap_port"]);
    expect((await failure(connect({ variant: { case: "messengerSession", value: { cookies: [] } } }))).kind).toBe("missing_parameters");
  });

  it("a set value breaking a rule → invalid_parameters, even next to missing ones", async () => {
    expect((await failure(connect({ country: "FRA", variant: { case: "telegram", value: {} } }))).kind).toBe("invalid_parameters");
    const mixed = await failure(connect({ variant: { case: "twitter", value: { username: "", email: "nope", password: "p" } } }));
    expect(mixed.kind).toBe("invalid_parameters");
    expect(mixed.violations.map((v) => v.field).sort()).toEqual(["twitter.email", "twitter.username"]);
  });

  it("a list item of the zero value is present, so invalid (not missing)", async () => {
    const e = await failure(connect({ disabledFeatures: [0], variant: { case: "telegram", value: {} } }));
    expect(e.kind).toBe("invalid_parameters");
    expect(e.violations.map((v) => v.field)).toEqual(["disabled_features[0]"]);
  });

  it("an empty map key is invalid, not missing", async () => {
    const e = await failure(connect({ variant: { case: "messengerSession", value: { cookies: [{ name: "a", value: "b" }], headers: { "": "v" } } } }));
    expect(e.kind).toBe("invalid_parameters");
  });

  it("works for the read methods' requests too", async () => {
    expect((await failure(() => validateRequest(GetAccountRequestSchema, create(GetAccountRequestSchema, {})))).kind).toBe("missing_parameters");
    const e = await failure(() => validateRequest(ListAccountsRequestSchema, create(ListAccountsRequestSchema, { pageSize: -1 })));
    expect(e.kind).toBe("invalid_parameters");
    expect(e.violations.map((v) => v.field)).toEqual(["page_size"]);
  });

  it("never puts a field's value in the message", async () => {
    const e = await failure(connect({ variant: { case: "twitter", value: { username: "a", email: "a@b.co", password: "p".repeat(1025) } } }));
    expect(e.message).not.toContain("p".repeat(50));
  });
});
