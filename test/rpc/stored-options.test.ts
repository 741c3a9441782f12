import { create, fromJson, toJson, type JsonValue } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { AccountOptionsSchema, type AccountOptions } from "../../gen/postpress/accounts/v1/account_pb.js";
import { DisabledFeature, MailSyncLimit, ProxyProtocol } from "../../gen/postpress/accounts/v1/options_pb.js";
import { accountOptionsFromStored } from "../../src/rpc/stored-options.ts";

/** What fromJson, the definition, makes of stored options (the connection details are not options). */
function reference(stored: Record<string, unknown>): AccountOptions {
  const { connection: _connection, ...options } = stored;
  return fromJson(AccountOptionsSchema, options as JsonValue, { ignoreUnknownFields: true });
}

/** Options as the write path stores them: toJson of the message, beside the connection details. */
const stored = (init: Parameters<typeof create<typeof AccountOptionsSchema>>[1], connection?: unknown) => ({
  ...(toJson(AccountOptionsSchema, create(AccountOptionsSchema, init)) as Record<string, unknown>),
  ...(connection === undefined ? {} : { connection }),
});

describe("accountOptionsFromStored: the message fromJson makes, whatever was stored", () => {
  const cases: Record<string, Record<string, unknown>> = {
    "no options": stored({}),
    "every field read directly": stored(
      {
        country: "US",
        ip: "198.51.100.7",
        disabledFeatures: [DisabledFeature.LINKEDIN_RECRUITER, DisabledFeature.LINKEDIN_ORGANIZATIONS_MAILBOXES],
        mailSyncLimit: MailSyncLimit.NO_HISTORY_SYNC,
        proxy: { protocol: ProxyProtocol.SOCKS5, host: "203.0.113.10", port: 1080, username: "u", hasPassword: true },
        userAgent: "Mozilla/5.0",
        recruiterContractId: "c-1",
      },
      { server: "imap.example.com" },
    ),
    "a proxy with only its defaults": stored({ proxy: {} }),
    "a history sync limit (fromJson's)": stored({
      historySyncLimit: { chats: { bound: { case: "count", value: 10 } }, messages: { bound: { case: "since", value: timestampFromDate(new Date("2025-12-31T23:59:59.999Z")) } } },
      country: "FR",
    }),
    "an enum as a number": { mailSyncLimit: 1 },
    "an enum name this build does not know": { disabledFeatures: ["DISABLED_FEATURE_FROM_THE_FUTURE"], country: "US" },
    "a field this build does not know": { country: "US", futureOption: true },
    "a proxy field this build does not know": { proxy: { host: "h", futureField: 1 } },
    "null for a default": { country: null, proxy: { port: null } },
    "snake_case names": { user_agent: "ua", recruiter_contract_id: "c" },
  };

  for (const [name, options] of Object.entries(cases)) {
    it(name, () => {
      expect(accountOptionsFromStored(options)).toStrictEqual(reference(options));
    });
  }

  it("a value fromJson refuses is refused the same way", () => {
    const bad = { proxy: { port: -1 } };
    expect(() => reference(bad)).toThrow();
    expect(() => accountOptionsFromStored(bad)).toThrow();
  });
});
