import { instagram, messenger, messengerSession, twitter, type ConnectRequest } from "../../checkpoints/support/helpers.ts";

/** One ConnectAccount request per web variant, none through a proxy: every call goes straight to the provider's base URL. */
export const WEB_REQUESTS: [string, ConnectRequest][] = [
  ["linkedinCookie", { variant: { case: "linkedinCookie", value: { accessToken: "li-at-Planted-Secret" } } }],
  ["linkedinBasic", { variant: { case: "linkedinBasic", value: { username: "ada@example.com", password: "li-Planted-Secret" } } }],
  ["instagramCookie", { variant: { case: "instagramCookie", value: { sessionid: "ig-session-Planted-Secret" } } }],
  ["instagramBasic", instagram("ada")],
  ["messengerSession", messengerSession()],
  ["messengerBasic", messenger("ada@example.com")],
  ["twitter", twitter("ada")],
];
