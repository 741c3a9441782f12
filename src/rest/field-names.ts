import { ConnectAccountRequestSchema } from "../../gen/postpress/accounts/v1/account_service_pb.js";
import { CookieSchema } from "../../gen/postpress/accounts/v1/variants_pb.js";
import { AppError, type FieldViolation } from "../errors/app-error.ts";
import type { ErrorKind } from "../errors/catalogue.ts";

/** The variant oneof's proto names ("linkedin_basic", "mail", ...): a flat body has no such level. */
const VARIANT_PREFIX = new RegExp(`^(?:${ConnectAccountRequestSchema.oneofs[0]!.fields.map((f) => f.name).join("|")})\\.`);

/** Cookie fields are spelt as browser exports spell them ("sameSite", "httpOnly"), not snake_case. */
const COOKIE_NAMES = new Map(CookieSchema.fields.map((f) => [f.name, f.jsonName]));

/**
 * A ConnectAccountRequest field path as protovalidate reports it → the flat body's name of it:
 * "linkedin_basic.proxy.port" → "proxy.port", "mail.imap_port" → "imap_port",
 * "messenger_session.cookies[0].same_site" → "cookies[0].sameSite",
 * "telegram.sync_limit.chats.count" → "sync_limit.chats", "variant" → "provider".
 */
export function flatFieldName(protoPath: string): string {
  if (protoPath === "variant") return "provider";
  return protoPath
    .replace(VARIANT_PREFIX, "")
    .replace(/^(sync_limit\.(?:chats|messages))\.(?:count|since)$/, "$1")
    .replace(/^(cookies\[\d+\]\.)(\w+)$/, (_m, item: string, name: string) => item + (COOKIE_NAMES.get(name) ?? name));
}

/**
 * The same error with its field violations renamed (validation of the proto message names proto
 * fields; a REST caller must read the names it sent). Errors without violations pass unchanged.
 */
export function renameFields(error: unknown, rename: (field: string) => string): unknown {
  if (!(error instanceof AppError) || error.violations.length === 0) return error;
  return violationError(
    error.kind,
    error.violations.map((v) => ({ field: rename(v.field), description: v.description })),
    error.metadata,
  );
}

/** One error for broken rules, with the same detail line validation.ts writes: "field: rule; ...". */
export function violationError(kind: ErrorKind, violations: FieldViolation[], metadata?: Record<string, string>, cause?: unknown): AppError {
  return new AppError(kind, {
    cause,
    detail: violations.map((v) => `${v.field || "(request)"}: ${v.description}`).join("; "),
    violations,
    ...(metadata ? { metadata } : {}),
  });
}
