import { monotonicFactory } from "ulid";
import type { AccountRecord, IntentRecord, SealedBlob, Workspace } from "../../src/store/store.ts";

const nextUlid = monotonicFactory();

/** Ids in creation order, like the service's own. */
export function newId(prefix: string): string {
  return `${prefix}_${nextUlid()}`;
}

export function minutesFrom(date: Date, minutes: number): Date {
  return new Date(date.getTime() + minutes * 60_000);
}

export function workspace(): Workspace {
  return { id: newId("ws"), name: `workspace ${nextUlid()}`, createdAt: new Date() };
}

export function sealed(keyId: string, content = nextUlid()): SealedBlob {
  return { keyId, envelope: Buffer.from(`sealed:${content}`) };
}

/** An open intent for a fresh identity, expiring ten minutes after `now`. */
export function intent(workspaceId: string, now: Date, fields: Partial<IntentRecord> = {}): IntentRecord {
  return {
    id: newId("int"),
    workspaceId,
    provider: "MAIL",
    identityKey: `user-${nextUlid()}@example.com`,
    accountId: newId("acc"),
    status: "OPEN",
    createdAt: now,
    updatedAt: now,
    expiresAt: minutesFrom(now, 10),
    closedAt: null,
    errorKind: null,
    state: null,
    secrets: null,
    revision: 0,
    ...fields,
  };
}

/** The account `intent` would create, for the provider user `providerUserId`. */
export function account(intent: IntentRecord, now: Date, providerUserId = `puid-${nextUlid()}`, fields: Partial<AccountRecord> = {}): AccountRecord {
  return {
    id: intent.accountId,
    workspaceId: intent.workspaceId,
    provider: intent.provider,
    authMethod: "mail",
    identity: { providerUserId, displayName: "Ada", email: "ada@example.com" },
    status: "CONNECTED",
    options: { imap: { host: "imap.example.com", port: 993 }, syncLimit: 100 },
    secrets: sealed("k1"),
    accessTokenExpiresAt: null,
    createdAt: now,
    updatedAt: now,
    statusReason: null,
    statusChangedAt: now,
    ...fields,
  };
}
