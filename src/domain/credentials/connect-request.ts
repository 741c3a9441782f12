import { clone, create, type DescMessage, type Message } from "@bufbuild/protobuf";
import { TimestampSchema, type Timestamp } from "@bufbuild/protobuf/wkt";
import { ConnectAccountRequestSchema, type ConnectAccountRequest } from "../../../gen/postpress/accounts/v1/account_service_pb.js";
import { DisabledFeatureSchema, MailSyncLimit, type HistorySyncLimit, type Proxy, type SyncBound } from "../../../gen/postpress/accounts/v1/options_pb.js";
import { CookieSchema } from "../../../gen/postpress/accounts/v1/variants_pb.js";
import {
  ConnectSettingsSchema,
  CredentialsSchema,
  HistoryBoundSchema,
  HistoryLimitSchema,
  MailCredentialsSchema,
  OauthCredentialsSchema,
  ProxyCredentialsSchema,
  WebCookieSchema,
  WebLoginCredentialsSchema,
  type ConnectSettings,
  type Credentials,
  type HistoryBound,
  type ProxyType,
  type ProxyCredentials,
} from "../../../gen/postpress/credentials/v1/credentials_pb.js";
import { AppError } from "../../errors/app-error.ts";
import type { Variant, VariantCase } from "../connectors/connector.ts";
import { VARIANT_MAPPINGS } from "./variant-mapping.ts";

/** A login as the domain keeps it: the credentials and the non-secret settings it was asked with. */
export interface CredentialsAndSettings {
  credentials: Credentials;
  settings: ConnectSettings;
}

const FAMILY_SCHEMAS = { mail: MailCredentialsSchema, oauth: OauthCredentialsSchema, webLogin: WebLoginCredentialsSchema } as const;

/** The domain's credentials for an accounts-API request: everything it carries except `restart`, which is a request-time choice. */
export function credentialsOfRequest(request: ConnectAccountRequest): CredentialsAndSettings {
  // Validation at the API's edge requires a variant: a request without one never gets here from a caller.
  if (request.variant.case === undefined) throw new AppError("missing_parameters", { detail: "The request names no provider variant." });
  const mapping = VARIANT_MAPPINGS[request.variant.case];
  const source = request.variant.value as unknown as Record<string, unknown>;
  const family: Record<string, unknown> = mapping.fixed ? { [mapping.fixed.field]: mapping.fixed.value } : {};
  for (const [apiField, domainField] of Object.entries(mapping.fields)) family[domainField] = copyValue(source[apiField], WebCookieSchema);
  const proxy = source.proxy as Proxy | undefined;
  const credentials = create(CredentialsSchema, {
    family: { case: mapping.family, value: create(FAMILY_SCHEMAS[mapping.family] as DescMessage, family) } as Credentials["family"],
    proxy: proxy ? create(ProxyCredentialsSchema, { type: proxy.protocol as number as ProxyType, host: proxy.host, port: proxy.port, username: proxy.username, password: proxy.password }) : undefined,
  });
  const settings = create(ConnectSettingsSchema, {
    country: request.country,
    ip: request.ip,
    disabledFeatures: request.disabledFeatures.map((n) => DisabledFeatureSchema.value[n]?.localName ?? String(n)),
    syncLimit: syncLimitOf(source.syncLimit as HistorySyncLimit | MailSyncLimit | undefined),
  });
  return { credentials, settings };
}

/**
 * The accounts-API request a domain login stands for: what today's connectors and gateway
 * contract still take. Inverse of credentialsOfRequest (restart is false).
 */
export function connectRequestOf({ credentials, settings }: CredentialsAndSettings): ConnectAccountRequest & { variant: Variant } {
  const { family } = credentials;
  const entry = (Object.entries(VARIANT_MAPPINGS) as [VariantCase, (typeof VARIANT_MAPPINGS)[VariantCase]][]).find(
    ([, m]) => m.family === family.case && (!m.fixed || (family.value as unknown as Record<string, unknown>)[m.fixed.field] === m.fixed.value),
  );
  if (!entry || !family.value) throw corrupt("credentials of no known variant");
  const [variantCase, mapping] = entry;
  const desc = ConnectAccountRequestSchema.field[variantCase]!.message!;
  const source = family.value as unknown as Record<string, unknown>;
  const value: Record<string, unknown> = {};
  for (const [apiField, domainField] of Object.entries(mapping.fields)) value[apiField] = copyValue(source[domainField], CookieSchema);
  if (desc.field.proxy && credentials.proxy) value.proxy = proxyOf(credentials.proxy);
  const syncField = desc.field.syncLimit;
  if (syncField?.fieldKind === "enum") value.syncLimit = settings.syncLimit.case === "mailNoHistory" && settings.syncLimit.value ? MailSyncLimit.NO_HISTORY_SYNC : MailSyncLimit.UNSPECIFIED;
  if (syncField?.fieldKind === "message" && settings.syncLimit.case === "history") {
    const { chats, messages } = settings.syncLimit.value;
    value.syncLimit = { chats: chats && syncBoundOf(chats), messages: messages && syncBoundOf(messages) };
  }
  return create(ConnectAccountRequestSchema, {
    variant: { case: variantCase, value: create(desc, value) } as Variant,
    country: settings.country,
    ip: settings.ip,
    disabledFeatures: settings.disabledFeatures.map((name) => {
      const feature = DisabledFeatureSchema.values.find((v) => v.localName === name);
      if (!feature) throw corrupt("an unknown disabled feature");
      return feature.number;
    }),
  }) as ConnectAccountRequest & { variant: Variant };
}

/** A field's value, copied: lists of messages (the cookies) become messages of `listSchema`, maps a fresh object. */
function copyValue(value: unknown, listSchema: DescMessage): unknown {
  if (Array.isArray(value)) return value.map((item) => create(listSchema, fieldsOf(item as Message)));
  if (value !== null && typeof value === "object") return { ...(value as Record<string, string>) };
  return value;
}

/** A message's fields without its type name and unknown fields, to initialise a message of the same shape. */
function fieldsOf(message: Message): Record<string, unknown> {
  return Object.fromEntries(Object.entries(message).filter(([key]) => !key.startsWith("$")));
}

function syncLimitOf(limit: HistorySyncLimit | MailSyncLimit | undefined): ConnectSettings["syncLimit"] {
  if (limit === MailSyncLimit.NO_HISTORY_SYNC) return { case: "mailNoHistory", value: true };
  if (typeof limit !== "object") return { case: undefined };
  const bound = (b: SyncBound | undefined) => b && create(HistoryBoundSchema, { bound: b.bound.case === "since" ? { case: "since", value: copyTimestamp(b.bound.value) } : b.bound });
  return { case: "history", value: create(HistoryLimitSchema, { chats: bound(limit.chats), messages: bound(limit.messages) }) };
}

function syncBoundOf(bound: HistoryBound): Record<string, unknown> {
  return { bound: bound.bound.case === "since" ? { case: "since", value: copyTimestamp(bound.bound.value) } : bound.bound };
}

function copyTimestamp(t: Timestamp): Timestamp {
  return clone(TimestampSchema, t);
}

function proxyOf(proxy: ProxyCredentials): Record<string, unknown> {
  return { protocol: proxy.type, host: proxy.host, port: proxy.port, username: proxy.username, password: proxy.password };
}

function corrupt(what: string): AppError {
  return new AppError("unexpected_error", { detail: `The sealed credentials hold ${what}.` });
}
