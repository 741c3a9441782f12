import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { ConnectAccountRequestSchema } from "../../gen/postpress/accounts/v1/account_service_pb.js";
import { ProxyProtocol } from "../../gen/postpress/accounts/v1/options_pb.js";
import { ImapEncryption } from "../../gen/postpress/accounts/v1/variants_pb.js";
import { createApiKey } from "../../src/auth/workspaces.ts";
import type { Sealer } from "../../src/crypto/sealer.ts";
import { connectedAccount } from "../../src/domain/accounts/connected-account.ts";
import type { Variant } from "../../src/domain/connectors/connector.ts";
import type { AccountRecord, Store } from "../../src/store/store.ts";
import { newId } from "../store/fixtures.ts";

/** Every value here is planted: none may ever show in a log line. */
export const planted = {
  imapPassword: "planted-imap-password-Zq81",
  smtpPassword: "planted-smtp-password-Wm27",
  proxyPassword: "planted-proxy-password-Kx55",
  liAt: "planted-li_at-cookie-Pv03",
};

/** A LinkedIn cookie login through an authenticated proxy. */
export function linkedinCookieRequest(): MessageInitShape<typeof ConnectAccountRequestSchema> {
  return {
    variant: {
      case: "linkedinCookie",
      value: {
        accessToken: planted.liAt,
        userAgent: "Mozilla/5.0 (bench)",
        proxy: { protocol: ProxyProtocol.SOCKS5, host: "203.0.113.10", port: 1080, username: "px", password: planted.proxyPassword },
      },
    },
  };
}

export function mailRequest(): MessageInitShape<typeof ConnectAccountRequestSchema> {
  return {
    variant: {
      case: "mail",
      value: {
        imapUser: "ada@example.com",
        imapPassword: planted.imapPassword,
        imapHost: "imap.example.com",
        imapPort: 993,
        imapEncryption: ImapEncryption.TLS,
        smtpUser: "ada@example.com",
        smtpPassword: planted.smtpPassword,
        smtpHost: "smtp.example.com",
        smtpPort: 465,
      },
    },
  };
}

export function outlookRequest(tokens: { accessToken: string; refreshToken: string }, user: { id: string; mail: string }): MessageInitShape<typeof ConnectAccountRequestSchema> {
  return { variant: { case: "outlook", value: { ...tokens, id: user.id, username: user.mail } } };
}

/**
 * An account linked the way ConnectAccount links one (connectedAccount seals it), written
 * straight to the store: the tests here are about reading it back, not about connecting.
 */
export async function seedAccount(
  store: Store,
  sealer: Sealer,
  workspaceId: string,
  request: MessageInitShape<typeof ConnectAccountRequestSchema>,
  fields: { provider: string; providerUserId: string; accessTokenExpiresAt?: Date },
): Promise<AccountRecord> {
  const now = new Date();
  const intent = {
    id: newId("int"),
    workspaceId,
    provider: fields.provider,
    identityKey: `${fields.providerUserId}-${newId("k")}`,
    accountId: newId("acc"),
    status: "OPEN" as const,
    createdAt: now,
    updatedAt: now,
    expiresAt: new Date(now.getTime() + 600_000),
    closedAt: null,
    errorKind: null,
    state: null,
    secrets: null,
    revision: 0,
  };
  await store.openIntent(intent, now);
  const full = create(ConnectAccountRequestSchema, request) as ReturnType<typeof create<typeof ConnectAccountRequestSchema>> & { variant: Variant };
  const result = { identity: { providerUserId: fields.providerUserId, email: "ada@example.com" }, ...(fields.accessTokenExpiresAt ? { accessTokenExpiresAt: fields.accessTokenExpiresAt } : {}) };
  const outcome = await store.insertAccount(connectedAccount(intent, full, result, sealer, now), intent.id, now);
  if (!("inserted" in outcome)) throw new Error(`seeding failed: ${JSON.stringify(outcome)}`);
  return outcome.inserted;
}

/** A key of workspace `workspace` that may read credentials, and nothing else. */
export async function credentialsKey(store: Store, workspace = "alpha"): Promise<string> {
  return (await createApiKey(store, workspace, "mail-sync", ["credentials:read"])).token;
}

/** The audit lines GetCredentials wrote, parsed. */
export function auditLines(logs: string[]): Record<string, unknown>[] {
  return logs.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line.audit === "credentials.read");
}
