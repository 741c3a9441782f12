import { fromJson, ScalarType, type DescField, type DescMessage, type JsonObject, type JsonValue } from "@bufbuild/protobuf";
import { ConnectAccountRequestSchema, type ConnectAccountRequest } from "../../gen/postpress/accounts/v1/account_service_pb.js";
import { SyncBoundSchema } from "../../gen/postpress/accounts/v1/options_pb.js";
import { CookieSchema } from "../../gen/postpress/accounts/v1/variants_pb.js";
import type { VariantCase } from "../domain/connectors/connector.ts";
import type { FieldViolation } from "../errors/app-error.ts";
import { violationError } from "./field-names.ts";
import { contractValues, fromContractString } from "./vocabulary.ts";

/**
 * The contract's flat body of POST /api/v1/accounts → ConnectAccountRequest. `provider` and
 * the credential fields present pick the variant; every other field is read through the
 * variant message's own descriptor, so the two cannot drift: a field the proto has is a field
 * the flat body accepts, under its proto name (cookies: under their browser-export names).
 * Enums are the contract's strings, sync bounds a date-time string or a count. The proto's
 * validation rules run afterwards, on the message, as on every other protocol.
 */

/** Which variant a provider's body is: the credential it carries decides (the contract's table). */
const VARIANT_OF: Record<string, (body: Record<string, unknown>) => VariantCase> = {
  LINKEDIN: (b) => (b.access_token !== undefined ? "linkedinCookie" : "linkedinBasic"),
  WHATSAPP: () => "whatsapp",
  INSTAGRAM: (b) => (b.sessionid !== undefined ? "instagramCookie" : "instagramBasic"),
  MESSENGER: (b) => (b.cookies !== undefined ? "messengerSession" : "messengerBasic"),
  MAIL: () => "mail",
  GOOGLE_OAUTH: () => "googleOauth",
  TELEGRAM: () => "telegram",
  OUTLOOK: () => "outlook",
  TWITTER: () => "twitter",
};

export const PROVIDERS = Object.keys(VARIANT_OF);

/** The options every variant shares (country, ip, disabled_features, restart): the request's own fields. */
const SHARED_FIELDS = ConnectAccountRequestSchema.fields.filter((f) => f.oneof === undefined);

/** Only uint32 numbers reach the proto here (ports, counts); a wider type would need its own bound. */
const UINT32_MAX = 0xffff_ffff;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/;

export function connectRequestFromFlat(body: unknown): ConnectAccountRequest & { variant: { case: VariantCase } } {
  const violations: FieldViolation[] = [];
  if (!isObject(body)) throw violationError("invalid_parameters", [{ field: "", description: "the body must be a JSON object" }]);
  const provider = body.provider;
  if (provider === undefined || provider === null) throw violationError("missing_parameters", [{ field: "provider", description: "value is required" }]);
  const pick = typeof provider === "string" && Object.hasOwn(VARIANT_OF, provider) ? VARIANT_OF[provider] : undefined;
  if (!pick) throw violationError("invalid_parameters", [{ field: "provider", description: `must be one of ${PROVIDERS.join(", ")}` }]);
  const variant = pick(body);
  const variantField = ConnectAccountRequestSchema.field[variant]!;
  const variantDesc = variantField.message!;

  const shared: JsonObject = {};
  const fields: JsonObject = {};
  for (const [key, value] of Object.entries(body)) {
    if (key === "provider") continue;
    const sharedField = SHARED_FIELDS.find((f) => f.name === key);
    const field = sharedField ?? fieldByFlatName(variantDesc, key);
    if (!field) {
      violations.push({ field: key, description: `not a field of the ${provider} request (${variantField.name} variant)` });
      continue;
    }
    const converted = convertField(field, value, key, violations);
    if (converted !== undefined) (sharedField ? shared : fields)[field.name] = converted;
  }
  if (violations.length > 0) throw violationError("invalid_parameters", violations);
  try {
    const message = fromJson(ConnectAccountRequestSchema, { ...shared, [variantField.name]: fields });
    return message as ConnectAccountRequest & { variant: { case: VariantCase } };
  } catch (cause) {
    // Every value was checked against its field's type above; what is left is a bound the
    // proto's JSON reader enforces and we did not (the library's text may quote the value).
    throw violationError("invalid_parameters", [{ field: "", description: "a value does not fit its field" }], undefined, cause);
  }
}

function fieldByFlatName(desc: DescMessage, name: string): DescField | undefined {
  return desc.fields.find((f) => flatName(desc, f) === name);
}

function flatName(desc: DescMessage, field: DescField): string {
  return desc.typeName === CookieSchema.typeName ? field.jsonName : field.name;
}

/** One flat value → its proto JSON; a wrong type is a violation at `path` (null: not sent). */
function convertField(field: DescField, value: unknown, path: string, violations: FieldViolation[]): JsonValue | undefined {
  if (value === null) return undefined;
  switch (field.fieldKind) {
    case "scalar":
      return convertScalar(field.scalar, value, path, violations);
    case "enum":
      return convertEnum(field.enum, value, path, violations);
    case "message":
      return convertMessage(field.message, value, path, violations);
    case "list": {
      if (!Array.isArray(value)) return invalid(violations, path, "must be an array");
      const item = (v: unknown, i: number) =>
        field.listKind === "message"
          ? convertMessage(field.message, v, `${path}[${i}]`, violations)
          : field.listKind === "enum"
            ? convertEnum(field.enum, v, `${path}[${i}]`, violations)
            : convertScalar(field.scalar, v, `${path}[${i}]`, violations);
      return value.map((v, i) => item(v, i) ?? null);
    }
    case "map": {
      if (!isObject(value)) return invalid(violations, path, "must be an object of strings");
      const out: JsonObject = {};
      for (const [k, v] of Object.entries(value)) {
        if (typeof v !== "string") invalid(violations, `${path}[${JSON.stringify(k)}]`, "must be a string");
        else out[k] = v;
      }
      return out;
    }
  }
}

function convertMessage(desc: DescMessage, value: unknown, path: string, violations: FieldViolation[]): JsonValue | undefined {
  if (desc.typeName === SyncBoundSchema.typeName) return convertSyncBound(value, path, violations);
  if (!isObject(value)) return invalid(violations, path, "must be an object");
  const out: JsonObject = {};
  for (const [key, v] of Object.entries(value)) {
    const field = fieldByFlatName(desc, key);
    if (!field) {
      invalid(violations, `${path}.${key}`, "not a field of this object");
      continue;
    }
    const converted = convertField(field, v, `${path}.${key}`, violations);
    if (converted !== undefined) out[field.name] = converted;
  }
  return out;
}

/** `sync_limit.chats` / `.messages`: a date-time ("2025-12-31T23:59:59.999Z") or a count. */
function convertSyncBound(value: unknown, path: string, violations: FieldViolation[]): JsonValue | undefined {
  if (typeof value === "number" && Number.isInteger(value) && value >= 0 && value <= UINT32_MAX) return { count: value };
  if (typeof value === "string" && DATE_TIME.test(value) && !Number.isNaN(Date.parse(value))) return { since: value };
  return invalid(violations, path, "must be a date-time such as 2025-12-31T23:59:59.999Z or a non-negative whole number");
}

function convertEnum(desc: NonNullable<DescField["enum"]>, value: unknown, path: string, violations: FieldViolation[]): JsonValue | undefined {
  const number = typeof value === "string" ? fromContractString(desc, value) : undefined;
  if (number === undefined) return invalid(violations, path, `must be one of ${contractValues(desc).join(", ")}`);
  return number;
}

function convertScalar(type: ScalarType | undefined, value: unknown, path: string, violations: FieldViolation[]): JsonValue | undefined {
  switch (type) {
    case ScalarType.STRING:
      return typeof value === "string" ? value : invalid(violations, path, "must be a string");
    case ScalarType.BOOL:
      return typeof value === "boolean" ? value : invalid(violations, path, "must be true or false");
    case ScalarType.DOUBLE:
      return typeof value === "number" ? value : invalid(violations, path, "must be a number");
    case ScalarType.UINT32:
      return typeof value === "number" && Number.isInteger(value) && value >= 0 && value <= UINT32_MAX ? value : invalid(violations, path, "must be a non-negative whole number");
    default:
      return invalid(violations, path, "has a type the REST surface does not read");
  }
}

function invalid(violations: FieldViolation[], field: string, description: string): undefined {
  violations.push({ field, description });
  return undefined;
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
