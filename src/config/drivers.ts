import { integer, Invalid, NON_NEGATIVE_MS, POSITIVE_MS, setting, url } from "./setting.ts";
import { pemFile } from "./pem-file.ts";

/** The provider drivers' limits and Telegram's application credentials (server and gateway alike). */
export const driversSchema = {
  maxPendingSessions: setting({ env: "DRIVER_MAX_PENDING_SESSIONS", default: "200", doc: "provider logins one process (server or gateway) holds while they wait for the person; beyond: errors/service_unavailable", accepted: "a positive whole number", parse: integer(1) }),
  sessionTtlMs: setting({ env: "DRIVER_SESSION_TTL_MS", default: "600000", doc: "the longest a provider login may wait before its sockets are closed and it ends EXPIRED", ...POSITIVE_MS }),
  telegram: {
    apiId: setting({ env: "TELEGRAM_API_ID", doc: "Telegram application id (my.telegram.org), with TELEGRAM_API_HASH; unset: Telegram answers errors/feature_not_implemented naming them", accepted: "a positive integer", parse: integer(1, 999_999_999_999) }),
    apiHash: setting({
      env: "TELEGRAM_API_HASH",
      doc: "Telegram application hash, with TELEGRAM_API_ID",
      accepted: "32 hexadecimal characters",
      secret: true,
      parse: (v) => {
        if (!/^[0-9a-f]{32}$/i.test(v)) throw new Invalid();
        return v;
      },
    }),
  },
};

/** The web drivers append the provider's own paths to these origins. */
const HTTPS_BASE = { accepted: "an https:// URL", parse: url(["https:"], { base: true }) };

/** Where the web drivers find each provider (tests point them at local servers), and their bounds. */
export const webDriversSchema = {
  linkedinBaseUrl: setting({ env: "LINKEDIN_BASE_URL", default: "https://www.linkedin.com", doc: "LinkedIn's web origin (login, Voyager, challenges)", ...HTTPS_BASE }),
  instagramBaseUrl: setting({ env: "INSTAGRAM_BASE_URL", default: "https://i.instagram.com", doc: "Instagram's private API origin", ...HTTPS_BASE }),
  facebookBaseUrl: setting({ env: "FACEBOOK_BASE_URL", default: "https://www.facebook.com", doc: "Facebook's web origin (the messages page of Messenger sessions)", ...HTTPS_BASE }),
  facebookGraphBaseUrl: setting({ env: "FACEBOOK_GRAPH_BASE_URL", default: "https://b-graph.facebook.com", doc: "Facebook's app login origin (/auth/login)", ...HTTPS_BASE }),
  twitterApiBaseUrl: setting({ env: "TWITTER_API_BASE_URL", default: "https://api.x.com", doc: "X's API origin", ...HTTPS_BASE }),
  twitterWebBaseUrl: setting({ env: "TWITTER_WEB_BASE_URL", default: "https://x.com", doc: "X's web origin", ...HTTPS_BASE }),
  extraCaPem: setting({ env: "DRIVERS_EXTRA_CA_FILE", doc: "extra CAs the web drivers trust (a TLS-inspecting egress, tests)", accepted: "a readable PEM file of CA certificates", parse: (path) => pemFile(path, "drivers") }),
  requestTimeoutMs: setting({ env: "DRIVERS_REQUEST_TIMEOUT_MS", default: "20000", doc: "per request of a web driver: connect (proxy handshake included), TLS, answer", ...POSITIVE_MS }),
  checkpointTtlMs: setting({ env: "DRIVERS_CHECKPOINT_TTL_MS", default: "300000", doc: "how long a web driver's checkpoint waits for the person before the login is EXPIRED", ...POSITIVE_MS }),
  approvalPollMs: setting({ env: "DRIVERS_APPROVAL_POLL_MS", default: "3000", doc: "how often an approval in the provider's app is polled", ...POSITIVE_MS }),
  twitterFlowStepDelayMs: setting({ env: "TWITTER_FLOW_STEP_DELAY_MS", default: "1500", doc: "pause between X login-flow steps (X flags instant answers as suspicious, error 399)", ...NON_NEGATIVE_MS }),
};
