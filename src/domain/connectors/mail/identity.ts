import type { ProviderIdentity } from "../../../store/store.ts";

/** Lower case without the root's trailing dot: "IMAP.Acme.com." and "imap.acme.com" are one server. */
export function normaliseHost(host: string): string {
  return host.trim().toLowerCase().replace(/\.$/, "");
}

/**
 * One mailbox is one login at one IMAP server: "anna@acme.com@imap.acme.com". The login
 * is also the email address when it looks like one.
 */
export function mailIdentity(imapUser: string, imapHost: string): ProviderIdentity {
  const login = imapUser.trim().toLowerCase();
  const identity: ProviderIdentity = { providerUserId: `${login}@${normaliseHost(imapHost)}` };
  if (/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(login)) identity.email = login;
  return identity;
}
