import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import { Provider } from "../../gen/postpress/accounts/v1/account_pb.js";
import {
  CredentialService,
  GetCredentialsRequestSchema,
  GetCredentialsResponseSchema,
  SmtpEncryption,
  file_postpress_accounts_v1_credential_service,
  type GetCredentialsResponse,
} from "../../gen/postpress/accounts/v1/credential_service_pb.js";
import { ProxyProtocol } from "../../gen/postpress/accounts/v1/options_pb.js";
import { ImapEncryption } from "../../gen/postpress/accounts/v1/variants_pb.js";
import type { Config } from "../config.ts";
import type { CredentialReader, CredentialsRead } from "../domain/credentials/credential-reader.ts";
import { AppError } from "../errors/app-error.ts";
import type { GrpcServiceBinding } from "../transport/grpc.ts";
import { scopeOf } from "./accounts.ts";
import { callOf } from "./call.ts";
import { validateRequest } from "./validation.ts";

/** Upper bound on one GetCredentials, whatever deadline the caller gave: a refresh is one token call. */
const MAX_GET_CREDENTIALS_MS = 30_000;

/** CredentialService: proto ↔ domain, nothing more. */
function createCredentialServiceImpl(reader: CredentialReader): ServiceImpl<typeof CredentialService> {
  return {
    async getCredentials(req, ctx) {
      await validateRequest(GetCredentialsRequestSchema, req);
      const read = await reader.read(callOf(ctx).caller, req.accountId, req.includeRefreshToken, () => scopeOf(ctx, MAX_GET_CREDENTIALS_MS));
      return credentialsToProto(read, req.includeRefreshToken);
    },
  };
}

/** Where the service is switched off: every call (past authentication and scopes) is UNIMPLEMENTED, errors/service_disabled. */
const disabledImpl: ServiceImpl<typeof CredentialService> = {
  getCredentials() {
    return Promise.reject(new AppError("service_disabled", { detail: "CredentialService is not served here (CREDENTIALS_SERVICE).", metadata: { service: CredentialService.typeName } }));
  },
};

/**
 * The service as each port serves it under CREDENTIALS_SERVICE: both ports always know it
 * (so an unserved port answers our UNIMPLEMENTED with its ErrorInfo, the same on every
 * protocol); only the ports the setting names run it.
 */
export function credentialServiceBindings(setting: Config["credentials"]["service"], reader: CredentialReader): { grpc: GrpcServiceBinding; http: GrpcServiceBinding } {
  const binding = (served: boolean) => ({ service: CredentialService, impl: served ? createCredentialServiceImpl(reader) : disabledImpl, files: [file_postpress_accounts_v1_credential_service] });
  return { grpc: binding(setting !== "off"), http: binding(setting === "all") };
}

const imapEncryptions = { unspecified: ImapEncryption.UNSPECIFIED, tls: ImapEncryption.TLS, ssl: ImapEncryption.SSL, starttls: ImapEncryption.STARTTLS, default: ImapEncryption.DEFAULT } as const;

function credentialsToProto(read: CredentialsRead, includeRefreshToken: boolean): GetCredentialsResponse {
  const { account, credentials } = read;
  const { proxy } = credentials;
  return create(GetCredentialsResponseSchema, {
    accountId: account.id,
    provider: Provider[account.provider as keyof typeof Provider] ?? Provider.UNSPECIFIED,
    credentials: credentialsCase(read, includeRefreshToken),
    ...(proxy ? { proxy: { ...proxy, protocol: ProxyProtocol[proxy.protocol as keyof typeof ProxyProtocol] ?? ProxyProtocol.UNSPECIFIED } } : {}),
  });
}

function credentialsCase(read: CredentialsRead, includeRefreshToken: boolean): GetCredentialsResponse["credentials"] {
  const { credentials } = read;
  switch (credentials.kind) {
    case "mail":
      return {
        case: "mail",
        value: {
          $typeName: "postpress.accounts.v1.MailCredentials",
          imap: { $typeName: "postpress.accounts.v1.MailServer", ...credentials.imap },
          smtp: { $typeName: "postpress.accounts.v1.MailServer", ...credentials.smtp },
          imapEncryption: imapEncryptions[credentials.imapEncryption],
          smtpEncryption: credentials.smtpEncryption === "tls" ? SmtpEncryption.TLS : SmtpEncryption.STARTTLS,
        },
      };
    case "oauth":
      return {
        case: "oauth",
        value: {
          $typeName: "postpress.accounts.v1.OAuthCredentials",
          accessToken: credentials.accessToken,
          ...(read.accessTokenExpiresAt ? { accessTokenExpireTime: timestampFromDate(read.accessTokenExpiresAt) } : {}),
          scopes: read.scopes,
          refreshToken: includeRefreshToken ? credentials.refreshToken : "",
        },
      };
    case "provider_session":
      return {
        case: "providerSession",
        value: {
          $typeName: "postpress.accounts.v1.ProviderSessionCredentials",
          format: credentials.session?.format ?? "",
          session: credentials.session?.data ?? "",
          cookies: credentials.cookies.map((cookie) => ({ $typeName: "postpress.accounts.v1.Cookie", ...cookie })),
          headers: credentials.headers,
          userAgent: credentials.userAgent,
        },
      };
  }
}
