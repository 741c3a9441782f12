import type { FieldViolation } from "../errors/app-error.ts";
import { isObject, PROVIDERS } from "./connect-body.ts";
import { violationError } from "./field-names.ts";

/** The body of POST /api/v1/accounts/checkpoint (`code` required) and …/checkpoint/resend (no `code`). */
export interface CheckpointBody {
  accountId: string;
  code: string;
}

/**
 * Reads `account_id`, `code` and `provider` as the original API sends them. `provider` is
 * accepted for those clients and checked, but the pending account already names its provider.
 * Missing values are left to the proto's rules (the caller's validateRequest), which name them.
 */
export function checkpointBodyOf(body: unknown, withCode: boolean): CheckpointBody {
  if (!isObject(body)) throw violationError("invalid_parameters", [{ field: "", description: "the body must be a JSON object" }]);
  const violations: FieldViolation[] = [];
  const text = (field: string): string => {
    const value = body[field];
    if (value === undefined || value === null) return "";
    if (typeof value === "string") return value;
    violations.push({ field, description: "must be a string" });
    return "";
  };
  const allowed = withCode ? ["account_id", "code", "provider"] : ["account_id", "provider"];
  for (const key of Object.keys(body)) {
    if (!allowed.includes(key)) violations.push({ field: key, description: `not a field of this request (fields: ${allowed.join(", ")})` });
  }
  const provider = text("provider");
  if (provider !== "" && !PROVIDERS.includes(provider)) violations.push({ field: "provider", description: `must be one of ${PROVIDERS.join(", ")}` });
  const result = { accountId: text("account_id"), code: withCode ? text("code") : "" };
  if (violations.length > 0) throw violationError("invalid_parameters", violations);
  return result;
}
