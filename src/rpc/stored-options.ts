import { fromJson, type DescEnum, type JsonValue } from "@bufbuild/protobuf";
import { AccountOptionsSchema, type AccountOptions, type ProxySummary } from "../../gen/postpress/accounts/v1/account_pb.js";
import { DisabledFeatureSchema, MailSyncLimitSchema, ProxyProtocolSchema } from "../../gen/postpress/accounts/v1/options_pb.js";

/**
 * An account's stored options (AccountOptions in proto JSON, as accountOptionsToJson wrote
 * them, beside the connection details) → the API message.
 *
 * fromJson is the definition, and was the largest part of building an Account: its generic
 * walk cost more than the rest of the Account together, on every account of every page. The
 * options nearly every account has (strings, enum names, the proxy summary) are read here
 * directly; anything else (a history sync limit with its timestamps and oneof, a name or a
 * value this build does not know, a value of an unexpected type) goes to fromJson as it is,
 * so what comes out is always what fromJson would make (test/rpc/stored-options.test.ts).
 */
export function accountOptionsFromStored(stored: Record<string, unknown>): AccountOptions {
  return direct(stored) ?? fromJson(AccountOptionsSchema, withoutConnection(stored), { ignoreUnknownFields: true });
}

/** Enum value names (as proto JSON writes them) → numbers. */
const numbersOf = (schema: DescEnum) => new Map(schema.values.map((value) => [value.name, value.number]));
const disabledFeatures = numbersOf(DisabledFeatureSchema);
const mailSyncLimits = numbersOf(MailSyncLimitSchema);
const proxyProtocols = numbersOf(ProxyProtocolSchema);

/** The message, or undefined where only fromJson knows the answer. */
function direct(stored: Record<string, unknown>): AccountOptions | undefined {
  const options: AccountOptions = {
    $typeName: "postpress.accounts.v1.AccountOptions",
    country: "",
    ip: "",
    disabledFeatures: [],
    mailSyncLimit: 0,
    userAgent: "",
    recruiterContractId: "",
  };
  for (const key in stored) {
    const value = stored[key];
    switch (key) {
      case "connection":
        continue; // the connection details: not an option
      case "country":
      case "ip":
      case "userAgent":
      case "recruiterContractId":
        if (typeof value !== "string") return undefined;
        options[key] = value;
        continue;
      case "disabledFeatures": {
        if (!Array.isArray(value)) return undefined;
        for (const name of value) {
          const number = disabledFeatures.get(name as string);
          if (number === undefined) return undefined;
          options.disabledFeatures.push(number);
        }
        continue;
      }
      case "mailSyncLimit": {
        const number = mailSyncLimits.get(value as string);
        if (number === undefined) return undefined;
        options.mailSyncLimit = number;
        continue;
      }
      case "proxy": {
        const proxy = proxySummary(value);
        if (proxy === undefined) return undefined;
        options.proxy = proxy;
        continue;
      }
      default:
        return undefined;
    }
  }
  return options;
}

function proxySummary(stored: unknown): ProxySummary | undefined {
  if (typeof stored !== "object" || stored === null || Array.isArray(stored)) return undefined;
  const proxy: ProxySummary = { $typeName: "postpress.accounts.v1.ProxySummary", protocol: 0, host: "", port: 0, username: "", hasPassword: false };
  const fields = stored as Record<string, unknown>;
  for (const key in fields) {
    const value = fields[key];
    switch (key) {
      case "protocol": {
        const number = proxyProtocols.get(value as string);
        if (number === undefined) return undefined;
        proxy.protocol = number;
        continue;
      }
      case "host":
      case "username":
        if (typeof value !== "string") return undefined;
        proxy[key] = value;
        continue;
      case "port":
        if (!Number.isInteger(value) || (value as number) < 0 || (value as number) > 0xffff_ffff) return undefined;
        proxy.port = value as number;
        continue;
      case "hasPassword":
        if (typeof value !== "boolean") return undefined;
        proxy.hasPassword = value;
        continue;
      default:
        return undefined;
    }
  }
  return proxy;
}

function withoutConnection(stored: Record<string, unknown>): JsonValue {
  const { connection: _connection, ...options } = stored;
  return options as JsonValue;
}
