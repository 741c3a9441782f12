import { getOption, isFieldSet, type DescField, type DescFile, type DescMessage } from "@bufbuild/protobuf";
import { BytesRulesSchema, field as fieldRules, RepeatedRulesSchema, MapRulesSchema, StringRulesSchema, type FieldRules } from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";
import { describe, expect, it } from "vitest";
import { file_postpress_accounts_v1_account } from "../../../gen/postpress/accounts/v1/account_pb.js";
import { file_postpress_accounts_v1_account_service } from "../../../gen/postpress/accounts/v1/account_service_pb.js";
import { file_postpress_accounts_v1_credential_service } from "../../../gen/postpress/accounts/v1/credential_service_pb.js";
import { file_postpress_accounts_v1_event_service } from "../../../gen/postpress/accounts/v1/event_service_pb.js";
import { file_postpress_accounts_v1_options } from "../../../gen/postpress/accounts/v1/options_pb.js";
import { file_postpress_accounts_v1_variants } from "../../../gen/postpress/accounts/v1/variants_pb.js";
import { file_postpress_gateway_v1_gateway } from "../../../gen/postpress/gateway/v1/gateway_pb.js";

/**
 * Issue 12.5: every string, bytes, map and repeated field of our protos has an upper bound
 * in its buf.validate rules, so no input can be stored or echoed at whatever size fits in
 * a message. Read from the generated descriptors, so a new unbounded field fails here.
 */

const FILES: DescFile[] = [file_postpress_accounts_v1_account, file_postpress_accounts_v1_account_service, file_postpress_accounts_v1_credential_service, file_postpress_accounts_v1_event_service, file_postpress_accounts_v1_options, file_postpress_accounts_v1_variants, file_postpress_gateway_v1_gateway];

function messagesOf(file: DescFile): DescMessage[] {
  const all: DescMessage[] = [];
  const walk = (m: DescMessage) => {
    all.push(m);
    m.nestedMessages.forEach(walk);
  };
  file.messages.forEach(walk);
  return all;
}


/** Whether a scalar's rules give it an upper bound (validate.proto is proto2: an unset rule reads as its default, so presence is asked). */
function scalarBound(scalar: "string" | "bytes", rules: FieldRules["type"] | undefined): boolean {
  if (rules?.case === "string" && scalar === "string") {
    const f = StringRulesSchema.field;
    return [f.maxLen, f.len, f.const].some((rule) => isFieldSet(rules.value, rule)) || rules.value.in.length > 0 || boundedPattern(rules.value.pattern);
  }
  if (rules?.case === "bytes" && scalar === "bytes") {
    const f = BytesRulesSchema.field;
    return [f.maxLen, f.len, f.const].some((rule) => isFieldSet(rules.value, rule)) || rules.value.in.length > 0;
  }
  return false;
}

/** An anchored pattern without *, + or {n,} matches strings of bounded length (e.g. "^\\+?[1-9][0-9]{5,19}$"). */
function boundedPattern(pattern: string): boolean {
  const bare = pattern.replace(/\\./g, "");
  return pattern.startsWith("^") && pattern.endsWith("$") && !/[*+]|\{\d*,\}/.test(bare);
}

function unbounded(field: DescField): string | undefined {
  const rules = getOption(field, fieldRules);
  switch (field.fieldKind) {
    case "scalar": {
      const kind = field.scalar === 9 ? "string" : field.scalar === 12 ? "bytes" : undefined; // ScalarType.STRING, BYTES
      if (kind && !scalarBound(kind, rules.type)) return `${kind} without max_len`;
      return undefined;
    }
    case "list": {
      if (rules.type.case !== "repeated" || !isFieldSet(rules.type.value, RepeatedRulesSchema.field.maxItems)) return "repeated without max_items";
      const item = field.listKind === "scalar" ? (field.scalar === 9 ? "string" : field.scalar === 12 ? "bytes" : undefined) : undefined;
      if (item && !scalarBound(item, rules.type.value.items?.type)) return `repeated ${item} without items max_len`;
      return undefined;
    }
    case "map": {
      if (rules.type.case !== "map" || !isFieldSet(rules.type.value, MapRulesSchema.field.maxPairs)) return "map without max_pairs";
      if (field.mapKey === 9 && !scalarBound("string", rules.type.value.keys?.type)) return "map keys without max_len";
      const valueKind = field.mapKind === "scalar" ? (field.scalar === 9 ? "string" : field.scalar === 12 ? "bytes" : undefined) : undefined;
      if (valueKind && !scalarBound(valueKind, rules.type.value.values?.type)) return "map values without max_len";
      return undefined;
    }
    default:
      return undefined;
  }
}

describe("proto bounds", () => {
  it("every string, bytes, repeated and map field of postpress.accounts.v1 and postpress.gateway.v1 is bounded", () => {
    const problems = FILES.flatMap(messagesOf).flatMap((message) =>
      message.fields.flatMap((field) => {
        const why = unbounded(field);
        return why ? [`${message.typeName}.${field.name}: ${why}`] : [];
      }),
    );
    expect(problems).toEqual([]);
  });

  it("the check itself sees fields: it covers every message of the six files", () => {
    const names = FILES.flatMap(messagesOf).map((m) => m.typeName);
    expect(names).toContain("postpress.accounts.v1.TwitterAuth");
    expect(names).toContain("postpress.gateway.v1.AuthenticationState");
    expect(names).toContain("postpress.accounts.v1.WebhookDelivery");
    expect(names.length).toBeGreaterThan(30);
  });
});
