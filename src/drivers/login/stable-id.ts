import { createHash } from "node:crypto";

/**
 * A device identifier that stays the same for one account (as the mobile clients keep theirs
 * across logins): a UUID-shaped digest of a purpose and the login name. A provider that sees
 * a known device asks fewer questions.
 */
export function stableUuid(purpose: string, login: string): string {
  const h = createHash("sha256").update(`${purpose}:${login.trim().toLowerCase()}`).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
