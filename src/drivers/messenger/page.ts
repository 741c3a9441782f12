import { AppError } from "../../errors/app-error.ts";
import type { ProviderIdentity } from "../../store/store.ts";
import type { WebSession } from "../http/client.ts";

/**
 * Whether a Facebook session's cookies are logged in, read the way mautrix-meta does
 * (pkg/messagix: it loads the messages page and reads `CurrentUserInitialData` from the
 * page's bootstrap JSON, and names a redirect to /checkpoint/, /challenge/ or the consent
 * page instead of the inbox). The user id in the page must be the `c_user` cookie's.
 */
export const MESSENGER = "Messenger";

export const DEFAULT_MESSENGER_USER_AGENT =
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

const blocks: Array<[RegExp, string]> = [
  [/^\/checkpoint\b/, "checkpoint"],
  [/^\/challenge\b/, "challenge"],
  [/^\/privacy\/consent\b|^\/consent\b/, "consent"],
];

export async function readMessengerUser(session: WebSession, baseUrl: string, knownName?: string): Promise<ProviderIdentity> {
  const userId = session.cookies.get("c_user");
  if (!userId) throw invalid("the session has no c_user cookie");
  const page = await session.send({ url: `${baseUrl}/messages/`, headers: { accept: "text/html,application/xhtml+xml", "sec-fetch-mode": "navigate", "sec-fetch-dest": "document" } });
  if (page.status >= 300 && page.status < 400 && page.location) {
    const path = new URL(page.location).pathname;
    const blocked = blocks.find(([pattern]) => pattern.test(path));
    if (blocked) {
      throw new AppError("action_required", { detail: `Facebook stops this session at a ${blocked[1]}: open Facebook in a browser and follow it.`, metadata: { provider: MESSENGER, block: blocked[1] } });
    }
    throw invalid("Facebook sends the session to its login page");
  }
  if (page.status === 429 || page.status >= 500) throw new AppError("provider_error", { detail: `Facebook answered HTTP ${page.status}.`, metadata: { provider: MESSENGER, status: String(page.status) } });
  if (page.status !== 200) throw new AppError("malformed_request", { detail: `Facebook answered HTTP ${page.status}.`, metadata: { provider: MESSENGER, status: String(page.status) } });
  const data = /"CurrentUserInitialData",\[\],(\{[^{}]*\})/.exec(page.text)?.[1];
  let current: { USER_ID?: unknown; NAME?: unknown } = {};
  try {
    current = data ? (JSON.parse(data) as typeof current) : {};
  } catch {
    current = {};
  }
  const pageUserId = typeof current.USER_ID === "string" ? current.USER_ID : undefined;
  if (!pageUserId || pageUserId === "0") throw invalid("Facebook shows the logged-out page");
  if (pageUserId !== userId) throw invalid("the page is logged in as another user than c_user");
  const name = typeof current.NAME === "string" && current.NAME ? current.NAME : knownName;
  return { providerUserId: pageUserId, ...(name ? { displayName: name } : {}) };
}

function invalid(why: string): AppError {
  return new AppError("invalid_credentials", { detail: `The Messenger session is not logged in (${why}).`, metadata: { provider: MESSENGER } });
}
