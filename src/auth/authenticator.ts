import { AppError } from "../errors/app-error.ts";
import type { Store } from "../store/store.ts";
import { parseApiKey, secretMatches } from "./api-key.ts";

/** Who is calling: the workspace the API key belongs to. */
export interface Caller {
  workspaceId: string;
  keyId: string;
}

/** Reads the key from `x-api-key` or `authorization: Bearer <key>`. */
export function apiKeyFromHeaders(get: (name: string) => string | undefined): string | undefined {
  const direct = get("x-api-key");
  if (direct) return direct.trim();
  const auth = get("authorization");
  const m = auth ? /^Bearer\s+(.+)$/i.exec(auth.trim()) : null;
  return m?.[1];
}

/**
 * Checks a caller's API key against the store. These failures are the caller's own
 * (errors/missing_api_key, invalid_api_key, revoked_api_key), kept apart from the
 * provider's errors/invalid_credentials.
 */
export async function authenticate(store: Store, token: string | undefined): Promise<Caller> {
  if (!token) throw new AppError("missing_api_key");
  const parsed = parseApiKey(token);
  if (!parsed) throw new AppError("invalid_api_key");
  const record = await store.getApiKey(parsed.keyId);
  // Compare even when the id is unknown would not hide anything: ids are not secret.
  if (!record || !secretMatches(parsed.secret, record.secretHash)) throw new AppError("invalid_api_key");
  if (record.revokedAt) throw new AppError("revoked_api_key");
  return { workspaceId: record.workspaceId, keyId: record.id };
}
