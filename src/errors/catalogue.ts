import { Code } from "@connectrpc/connect";

/**
 * Every error this service can answer with. The keys are internal names; `type` is the
 * wire string. Two keys share `errors/request_timeout` because the contract lists it
 * under both 408 (talking to the provider timed out) and 504 (the upstream never answered).
 *
 * gRPC codes follow the HTTP mapping of google/rpc/code.proto, with the exceptions the
 * contract issue fixes (provider_error and proxy errors are UNAVAILABLE, 425 is ABORTED).
 */
export const catalogue = {
  // 400: from the contract
  invalid_parameters: entry("errors/invalid_parameters", 400, Code.InvalidArgument, "One or more request parameters are invalid or missing."),
  missing_parameters: entry("errors/missing_parameters", 400, Code.InvalidArgument, "One or more request parameters are missing."),
  invalid_request: entry("errors/invalid_request", 400, Code.InvalidArgument, "One or a combination of request parameters are invalid."),
  malformed_request: entry("errors/malformed_request", 400, Code.InvalidArgument, "The given request has been rejected by the provider."),
  content_too_large: entry("errors/content_too_large", 400, Code.InvalidArgument, "The request payload is too large for the provider."),
  too_many_characters: entry("errors/too_many_characters", 400, Code.InvalidArgument, "The provided content exceeds the character limit."),
  unescaped_characters: entry("errors/unescaped_characters", 400, Code.InvalidArgument, "The request path contains unescaped characters."),
  limit_too_high: entry("errors/limit_too_high", 400, Code.InvalidArgument, "Pagination limit too high."),
  // 401
  invalid_credentials: entry("errors/invalid_credentials", 401, Code.Unauthenticated, "The provided credentials are invalid."),
  // 403
  account_restricted: entry("errors/account_restricted", 403, Code.PermissionDenied, "The account has been restricted by the provider."),
  account_mismatch: entry("errors/account_mismatch", 403, Code.PermissionDenied, "Credentials don't match the requested account."),
  insufficient_permissions: entry("errors/insufficient_permissions", 403, Code.PermissionDenied, "The account lacks the required permissions."),
  session_mismatch: entry("errors/session_mismatch", 403, Code.PermissionDenied, "The session does not match the current account."),
  feature_not_subscribed: entry("errors/feature_not_subscribed", 403, Code.PermissionDenied, "The required feature is not part of your subscription."),
  subscription_required: entry("errors/subscription_required", 403, Code.PermissionDenied, "A subscription is required to use this feature."),
  unknown_authentication_context: entry("errors/unknown_authentication_context", 403, Code.PermissionDenied, "Unknown authentication context."),
  action_required: entry("errors/action_required", 403, Code.PermissionDenied, "The provider requires an additional action."),
  resource_access_restricted: entry("errors/resource_access_restricted", 403, Code.PermissionDenied, "Access to this resource is restricted."),
  // 407 / 408
  proxy_auth_error: entry("errors/proxy_auth_error", 407, Code.Unavailable, "The proxy in use is not working. Please try again.", true),
  request_timeout: entry("errors/request_timeout", 408, Code.DeadlineExceeded, "Communication with the provider has timed out. Please retry.", true),
  // 409 / 425
  operation_canceled: entry("errors/operation_canceled", 409, Code.Aborted, "The current task was canceled by a subsequent one."),
  already_exists: entry("errors/already_exists", 409, Code.AlreadyExists, "An equivalent account already exists."),
  auth_in_progress: entry("errors/auth_in_progress", 425, Code.Aborted, "Cannot start a new intent while another is still in progress.", true),
  // 5xx
  unexpected_error: entry("errors/unexpected_error", 500, Code.Internal, "Something went wrong."),
  provider_error: entry("errors/provider_error", 500, Code.Unavailable, "The provider is experiencing operational problems.", true),
  authentication_intent_error: entry("errors/authentication_intent_error", 500, Code.Internal, "The current authentication intent was killed after failure. Restart from the beginning."),
  feature_not_implemented: entry("errors/feature_not_implemented", 501, Code.Unimplemented, "Requested feature is planned but has not been implemented yet."),
  proxy_error: entry("errors/proxy_error", 502, Code.Unavailable, "The proxy in use is not working. Please try again.", true),
  no_client_session: entry("errors/no_client_session", 503, Code.Unavailable, "No client session is currently running.", true),
  no_channel: entry("errors/no_channel", 503, Code.Unavailable, "No channel to client session.", true),
  no_handler: entry("errors/no_handler", 503, Code.Unavailable, "Handler missing for that request."),
  network_down: entry("errors/network_down", 503, Code.Unavailable, "Network is down on the server side. Retry shortly.", true),
  service_unavailable: entry("errors/service_unavailable", 503, Code.Unavailable, "Service temporarily unavailable. Retry later.", true),
  upstream_timeout: entry("errors/request_timeout", 504, Code.DeadlineExceeded, "Request timed out. Retry, and contact support if it persists.", true),

  // This service's own types, beyond the contract.
  missing_api_key: entry("errors/missing_api_key", 401, Code.Unauthenticated, "No API key was sent: pass it in the x-api-key header or as authorization: Bearer <key>."),
  invalid_api_key: entry("errors/invalid_api_key", 401, Code.Unauthenticated, "The API key is not known to this service."),
  revoked_api_key: entry("errors/revoked_api_key", 401, Code.Unauthenticated, "The API key has been revoked."),
  scope_required: entry("errors/scope_required", 403, Code.PermissionDenied, "The API key lacks the scope this call needs."),
  undecodable_request: entry("errors/undecodable_request", 400, Code.InvalidArgument, "The request body could not be decoded as this RPC's message (bad protobuf, bad JSON or wrong content type)."),
  message_too_large: entry("errors/message_too_large", 413, Code.ResourceExhausted, "The message exceeds the 4 MiB limit."),
  not_found: entry("errors/not_found", 404, Code.NotFound, "No such resource in this workspace."),
  provider_unreachable: entry("errors/provider_unreachable", 503, Code.Unavailable, "The provider's server could not be reached (connection refused, host unreachable or DNS failure).", true),
  provider_tls_error: entry("errors/provider_tls_error", 502, Code.Unavailable, "A secure connection to the provider's server could not be established (TLS handshake failed, certificate not trusted, or encryption not offered)."),
  request_canceled: entry("errors/request_canceled", 499, Code.Canceled, "The caller canceled the request."),
  target_not_allowed: entry("errors/target_not_allowed", 400, Code.InvalidArgument, "The request names a host this service does not connect to (an internal, loopback, private or reserved address)."),
  // Requests the HTTP port cannot route, and bodies it will not read.
  unknown_method: entry("errors/unknown_method", 404, Code.Unimplemented, "No RPC is served at this path: POST to /postpress.accounts.v1.AccountService/<Method>."),
  unsupported_media_type: entry("errors/unsupported_media_type", 415, Code.InvalidArgument, "The content type is not one this port speaks: application/json or application/proto (Connect), application/connect+json or +proto (Connect streaming), application/grpc-web+proto or +json (gRPC-Web)."),
  service_disabled: entry("errors/service_disabled", 501, Code.Unimplemented, "This service is switched off on this server (CREDENTIALS_SERVICE), or not served on this port."),
  unsupported_encoding: entry("errors/unsupported_encoding", 501, Code.Unimplemented, "The request is compressed with an encoding this service does not accept."),
  origin_not_allowed: entry("errors/origin_not_allowed", 403, Code.PermissionDenied, "Pages from this origin may not call this service (CORS_ALLOWED_ORIGINS)."),
  // Checkpoints (SolveCheckpoint, ResendCheckpoint, CancelCheckpoint, WatchAccount).
  invalid_checkpoint_code: entry("errors/invalid_checkpoint_code", 400, Code.InvalidArgument, "The code does not solve the checkpoint. The checkpoint is still open: try again, or have it resent."),
  no_pending_checkpoint: entry("errors/no_pending_checkpoint", 400, Code.InvalidArgument, "No checkpoint of this account waits for a code or a resend (none is open, or it is confirmed in the provider's app)."),
  intent_expired: entry("errors/intent_expired", 408, Code.DeadlineExceeded, "The authentication intent expired before it was completed. Restart from the beginning."),
  too_many_pending_intents: entry("errors/too_many_pending_intents", 429, Code.ResourceExhausted, "The workspace has too many connections in progress. Finish or cancel some, or retry once they expire.", true),
} as const;

export type ErrorKind = keyof typeof catalogue;
export type CatalogueEntry = (typeof catalogue)[ErrorKind];

/** The names of the contract's own rows (the spec's 34), for tests and docs. */
export const contractKinds = Object.keys(catalogue).slice(0, 34) as ErrorKind[];

function entry<T extends string>(type: T, httpStatus: number, code: Code, message: string, retryable = false) {
  return { type, httpStatus, code, message, retryable, reason: type.slice("errors/".length).toUpperCase() };
}
