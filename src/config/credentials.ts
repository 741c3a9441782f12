import { oneOf, POSITIVE_MS, setting } from "./setting.ts";

/**
 * CredentialService (GetCredentials): where it is served, when a token is refreshed before
 * it is handed out, and how long a read waits for another replica's refresh.
 */
export const credentialsSchema = {
  service: setting({
    env: "CREDENTIALS_SERVICE",
    default: "off",
    doc: "where CredentialService/GetCredentials is served: off (everywhere UNIMPLEMENTED, errors/service_disabled), grpc (the gRPC port only: keep it internal), all (gRPC, Connect and gRPC-Web)",
    ...oneOf(["off", "grpc", "all"]),
  }),
  refreshMarginMs: setting({
    env: "CREDENTIALS_REFRESH_MARGIN_MS",
    default: "300000",
    doc: "GetCredentials refreshes an OAuth access token that expires within this before answering it",
    ...POSITIVE_MS,
  }),
  lockTimeoutMs: setting({
    env: "CREDENTIALS_LOCK_TIMEOUT_MS",
    default: "5000",
    doc: "longest wait of a GetCredentials for another replica's refresh of the same account (then errors/service_unavailable); the call's deadline and the store's statement timeout bound it too",
    ...POSITIVE_MS,
  }),
};
