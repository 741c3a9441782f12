import { randomBytes } from "node:crypto";

/** The access and refresh tokens the fake providers hand out, and whose they are. */

export interface Tokens {
  accessToken: string;
  refreshToken: string;
}

export interface TokenBook<U> {
  /** A fresh, valid pair for `user`. */
  issue(user: U): Tokens;
  /** Whose valid access token this is. */
  ownerOfAccess(accessToken: string): U | undefined;
  /** Mints a new access token from a live refresh token (and a new refresh token when rotating). */
  refresh(refreshToken: string, rotate: boolean): { user: U; accessToken: string; refreshToken?: string } | undefined;
  /** As after the access token's hour is up. */
  expire(accessToken: string): void;
  /** As when the person revokes the app's access. */
  revoke(refreshToken: string): void;
  /** Every token ever minted, live or not. */
  minted(): string[];
}

export function createTokenBook<U>(prefixes: { access: string; refresh: string }): TokenBook<U> {
  const byAccess = new Map<string, U>();
  const byRefresh = new Map<string, U>();
  const all: string[] = [];
  const mint = (prefix: string) => {
    const token = `${prefix}${randomBytes(24).toString("base64url")}`;
    all.push(token);
    return token;
  };
  const newAccess = (user: U) => {
    const token = mint(prefixes.access);
    byAccess.set(token, user);
    return token;
  };
  const newRefresh = (user: U) => {
    const token = mint(prefixes.refresh);
    byRefresh.set(token, user);
    return token;
  };
  return {
    issue: (user) => ({ accessToken: newAccess(user), refreshToken: newRefresh(user) }),
    ownerOfAccess: (token) => byAccess.get(token),
    refresh(token, rotate) {
      const user = byRefresh.get(token);
      if (user === undefined) return undefined;
      return { user, accessToken: newAccess(user), ...(rotate ? { refreshToken: newRefresh(user) } : {}) };
    },
    expire: (token) => void byAccess.delete(token),
    revoke: (token) => void byRefresh.delete(token),
    minted: () => [...all],
  };
}
