import { AppError } from "../../errors/app-error.ts";
import type { ProviderIdentity } from "../../store/store.ts";
import { parseJson, type WebAnswer, type WebSession } from "../http/client.ts";
import { field } from "../../domain/connectors/oauth/json.ts";

/**
 * LinkedIn's web API (Voyager) as tomquirk/linkedin-api speaks it: a JSESSIONID cookie
 * from /uas/authenticate, then every call with `csrf-token` = that JSESSIONID, and the
 * member's own profile from /voyager/api/me (its `plainId` is the member id).
 */
export const LINKEDIN = "LinkedIn";

export const DEFAULT_LINKEDIN_USER_AGENT =
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

/** What LinkedIn's own auth library sends with /uas/authenticate (tomquirk/linkedin-api `AUTH_REQUEST_HEADERS`). */
export const authRequestHeaders: Record<string, string> = {
  "x-li-user-agent": "LIAuthLibrary:0.0.3 com.linkedin.android:4.1.881 Asus_ASUS_Z01QD:android_9",
  "x-user-language": "en",
  "x-user-locale": "en_US",
};

/** Gets the JSESSIONID cookie LinkedIn wants echoed as csrf-token (tomquirk `_request_session_cookies`). */
export async function ensureCsrfCookie(session: WebSession, baseUrl: string): Promise<string> {
  if (!session.cookies.get("JSESSIONID")) {
    const answer = await session.send({ url: `${baseUrl}/uas/authenticate`, headers: authRequestHeaders });
    if (answer.status >= 500 || answer.status === 429) throw statusError(answer, "provider_error");
  }
  const jsession = session.cookies.get("JSESSIONID");
  if (!jsession) throw unexpected("did not set the JSESSIONID cookie");
  return jsession;
}

/** Who the session's cookies belong to; an expired cookie is invalid_credentials, a restricted account account_restricted. */
export async function readMember(session: WebSession, baseUrl: string): Promise<ProviderIdentity> {
  const csrf = await ensureCsrfCookie(session, baseUrl);
  const answer = await session.send({ url: `${baseUrl}/voyager/api/me`, headers: voyagerHeaders(csrf) });
  if (answer.status !== 200) throw memberFailure(answer);
  const me = parseJson(answer);
  const plainId = field(me, "plainId");
  const mini = field(me, "miniProfile");
  if ((typeof plainId !== "number" && typeof plainId !== "string") || String(plainId) === "") throw unexpected("has no member id (plainId)");
  const first = field(mini, "firstName");
  const last = field(mini, "lastName");
  const handle = field(mini, "publicIdentifier");
  const displayName = [first, last].filter((s): s is string => typeof s === "string" && s !== "").join(" ");
  return { providerUserId: String(plainId), ...(displayName ? { displayName } : {}), ...(typeof handle === "string" && handle ? { handle } : {}) };
}

/**
 * Checks that the member holds the Recruiter contract the request names (modelled on the
 * Recruiter web client's contract chooser: a list of contracts the member may use).
 * No Recruiter seat at all → feature_not_subscribed; a contract they lack → insufficient_permissions.
 */
export async function checkRecruiterContract(session: WebSession, baseUrl: string, contractId: string): Promise<void> {
  const csrf = await ensureCsrfCookie(session, baseUrl);
  const answer = await session.send({ url: `${baseUrl}/talent/api/talentContracts?q=viewer`, headers: voyagerHeaders(csrf) });
  if (answer.status === 403 || answer.status === 404) {
    throw new AppError("feature_not_subscribed", { detail: "The member has no LinkedIn Recruiter seat.", metadata: { provider: LINKEDIN } });
  }
  if (answer.status !== 200) throw memberFailure(answer);
  const elements = field(parseJson(answer), "elements");
  const ids = Array.isArray(elements) ? elements.map((e) => String(field(e, "entityUrn") ?? "").split(":").pop()) : [];
  if (ids.length === 0) throw new AppError("feature_not_subscribed", { detail: "The member has no LinkedIn Recruiter contract.", metadata: { provider: LINKEDIN } });
  if (!ids.includes(contractId)) {
    throw new AppError("insufficient_permissions", { detail: "The member does not hold the requested Recruiter contract.", metadata: { provider: LINKEDIN, recruiterContractId: contractId } });
  }
}

export function voyagerHeaders(csrf: string): Record<string, string> {
  return {
    "csrf-token": csrf.replace(/^"|"$/g, ""),
    accept: "application/vnd.linkedin.normalized+json+2.1",
    "x-restli-protocol-version": "2.0.0",
    "x-li-lang": "en_US",
  };
}

function memberFailure(answer: WebAnswer): AppError {
  const to = answer.location ? new URL(answer.location).pathname : "";
  if (answer.status === 401 || /^\/(login|uas\/login|authwall)/.test(to)) {
    return new AppError("invalid_credentials", { detail: "LinkedIn does not accept the session cookie (expired or revoked).", metadata: { provider: LINKEDIN, status: String(answer.status) } });
  }
  if (answer.status === 403 || to.startsWith("/checkpoint/")) {
    return new AppError("account_restricted", { detail: "LinkedIn restricts this account.", metadata: { provider: LINKEDIN, status: String(answer.status) } });
  }
  return statusError(answer, answer.status === 429 || answer.status >= 500 ? "provider_error" : "malformed_request");
}

function statusError(answer: WebAnswer, kind: "provider_error" | "malformed_request"): AppError {
  return new AppError(kind, { detail: `LinkedIn answered HTTP ${answer.status}.`, metadata: { provider: LINKEDIN, status: String(answer.status) } });
}

export function unexpected(what: string): AppError {
  return new AppError("provider_error", { detail: `LinkedIn's answer ${what}.`, metadata: { provider: LINKEDIN, cause: "unexpected_response" } });
}
