import { AppError } from "../errors/app-error.ts";
import type { ApiKeyRecord, Store } from "../store/store.ts";
import { parseApiKey, secretMatches } from "./api-key.ts";

/** Who is calling: the workspace the API key belongs to, and what the key may do. */
export interface Caller {
  workspaceId: string;
  keyId: string;
  scopes: ReadonlySet<string>;
}

/**
 * Reads the key from `x-api-key` or `authorization: Bearer <key>`. The transports hand a
 * header sent more than once over as its values joined with ", " (RFC 9110 §5.3), and no
 * key holds a comma: such a request is refused rather than served with whichever came first.
 */
export function apiKeyFromHeaders(get: (name: string) => string | undefined): string | undefined {
  const direct = get("x-api-key");
  if (direct) return single("x-api-key", direct).trim();
  const auth = get("authorization");
  const m = auth ? /^Bearer\s+(.+)$/i.exec(single("authorization", auth).trim()) : null;
  return m?.[1];
}

function single(name: string, value: string): string {
  if (value.includes(",")) throw new AppError("invalid_api_key", { detail: `The ${name} header was sent more than once.` });
  return value;
}

export type Authenticate = (token: string | undefined) => Promise<Caller>;

/**
 * Checks a caller's API key against the store. These failures are the caller's own
 * (errors/missing_api_key, invalid_api_key, revoked_api_key), kept apart from the
 * provider's errors/invalid_credentials.
 *
 * A key's record is kept for `cacheMs` after it is read, so most calls skip the store; the
 * secret is still checked on every call. The price: a key revoked or given other scopes
 * elsewhere (the CLI, another replica) keeps its old record here for up to `cacheMs`. Unknown key ids are never kept, so a new
 * key works at once and made-up ids can't fill the cache. 0 reads the store on every call.
 */
export function createAuthenticator(store: Store, options: { cacheMs: number; now?: () => number }): Authenticate {
  const now = options.now ?? Date.now;
  // Promises, so that the calls arriving together on a cold key share one read.
  const cache = new Map<string, { record: Promise<ApiKeyRecord | undefined>; until: number }>();
  // One Caller per record read, rather than a new one (and a new scope set) per call.
  const callers = new WeakMap<ApiKeyRecord, Caller>();
  const callerOf = (record: ApiKeyRecord): Caller => {
    let caller = callers.get(record);
    if (!caller) callers.set(record, (caller = Object.freeze({ workspaceId: record.workspaceId, keyId: record.id, scopes: new Set(record.scopes) })));
    return caller;
  };

  const lookup = (keyId: string): Promise<ApiKeyRecord | undefined> => {
    if (options.cacheMs <= 0) return store.getApiKey(keyId);
    const at = now();
    const hit = cache.get(keyId);
    if (hit && at < hit.until) return hit.record;
    const record = store.getApiKey(keyId);
    const entry = { record, until: at + options.cacheMs };
    cache.set(keyId, entry);
    const forget = () => {
      if (cache.get(keyId) === entry) cache.delete(keyId);
    };
    record.then((found) => {
      if (!found) forget();
    }, forget);
    return record;
  };

  return async (token) => {
    if (!token) throw new AppError("missing_api_key");
    const parsed = parseApiKey(token);
    if (!parsed) throw new AppError("invalid_api_key");
    const record = await lookup(parsed.keyId);
    // Compare even when the id is unknown would not hide anything: ids are not secret.
    if (!record || !secretMatches(parsed.secret, record.secretHash)) throw new AppError("invalid_api_key");
    if (record.revokedAt) throw new AppError("revoked_api_key");
    return callerOf(record);
  };
}
