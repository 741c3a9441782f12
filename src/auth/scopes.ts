import { AppError } from "../errors/app-error.ts";
import type { RpcRef } from "../observability/rpc-trace.ts";

/**
 * What an API key may do. A key carries a set of these; every RPC needs exactly one, looked
 * up in METHOD_SCOPES by the call pipeline before the handler runs, so gRPC, Connect and
 * REST refuse the same calls the same way.
 */
export const SCOPES = {
  "accounts:read": "get, list and watch accounts",
  "accounts:write": "connect accounts, solve, resend and cancel checkpoints, reconnect and delete accounts",
  "credentials:read": "read an account's credentials (internal services only; never granted by default)",
  "events:read": "read and stream account events",
  "webhooks:write": "create, list, rotate and delete webhook endpoints, list their deliveries",
} as const;

export type Scope = keyof typeof SCOPES;

export const ALL_SCOPES = Object.keys(SCOPES) as Scope[];

/** What `keys create` grants without `--scope`, and what keys made before scopes existed were migrated to: everything but credentials. */
export const DEFAULT_SCOPES: readonly Scope[] = ["accounts:read", "accounts:write", "events:read", "webhooks:write"];

/**
 * The one method → scope table, keyed "<package.Service>/<Method>". A method missing here is
 * refused to every key (test/unit/scopes.test.ts checks every served method is listed).
 */
const METHOD_SCOPES: Readonly<Record<string, Scope>> = {
  "postpress.accounts.v1.AccountService/ConnectAccount": "accounts:write",
  "postpress.accounts.v1.AccountService/SolveCheckpoint": "accounts:write",
  "postpress.accounts.v1.AccountService/ResendCheckpoint": "accounts:write",
  "postpress.accounts.v1.AccountService/CancelCheckpoint": "accounts:write",
  "postpress.accounts.v1.AccountService/ReconnectAccount": "accounts:write",
  "postpress.accounts.v1.AccountService/DeleteAccount": "accounts:write",
  "postpress.accounts.v1.AccountService/GetAccount": "accounts:read",
  "postpress.accounts.v1.AccountService/ListAccounts": "accounts:read",
  "postpress.accounts.v1.AccountService/WatchAccount": "accounts:read",
  "postpress.accounts.v1.CredentialService/GetCredentials": "credentials:read",
  "postpress.accounts.v1.EventService/StreamEvents": "events:read",
  "postpress.accounts.v1.EventService/CreateWebhookEndpoint": "webhooks:write",
  "postpress.accounts.v1.EventService/ListWebhookEndpoints": "webhooks:write",
  "postpress.accounts.v1.EventService/DeleteWebhookEndpoint": "webhooks:write",
  "postpress.accounts.v1.EventService/RotateWebhookSecret": "webhooks:write",
  "postpress.accounts.v1.EventService/ListWebhookDeliveries": "webhooks:write",
};

export function methodPath(method: RpcRef): string {
  return `${method.parent.typeName}/${method.name}`;
}

/** The scope `method` needs, or undefined when none is mapped (then no key may call it). */
export function scopeFor(method: RpcRef): Scope | undefined {
  const path = methodPath(method);
  return Object.hasOwn(METHOD_SCOPES, path) ? METHOD_SCOPES[path] : undefined;
}

/** Throws errors/scope_required unless `granted` holds the scope `method` needs. */
export function requireScope(method: RpcRef, granted: ReadonlySet<string>): void {
  const needed = scopeFor(method);
  if (needed === undefined) {
    // Fail closed: an RPC nobody mapped is not open to every key.
    throw new AppError("scope_required", { detail: `No scope grants ${methodPath(method)}.`, metadata: { method: methodPath(method) } });
  }
  if (!granted.has(needed)) {
    throw new AppError("scope_required", { detail: `This call needs the scope ${needed}.`, metadata: { scope: needed, method: methodPath(method) } });
  }
}

/**
 * Checks scope names given by an operator (the CLI): each must be known, `accounts:*` stands
 * for every accounts scope. Duplicates collapse; the result is in table order.
 */
export function parseScopes(names: readonly string[]): Scope[] {
  const wanted = new Set<Scope>();
  for (const name of names) {
    if (name === "accounts:*") {
      for (const scope of ALL_SCOPES) if (scope.startsWith("accounts:")) wanted.add(scope);
    } else if (Object.hasOwn(SCOPES, name)) {
      wanted.add(name as Scope);
    } else {
      throw new Error(`unknown scope ${JSON.stringify(name)}: known scopes are ${ALL_SCOPES.join(", ")} (or accounts:* for both accounts scopes)`);
    }
  }
  return ALL_SCOPES.filter((scope) => wanted.has(scope));
}
