import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-web";
import { BadRequestSchema, ErrorInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { AccountService } from "../../gen/postpress/accounts/v1/account_service_pb.js";

/**
 * The script of the page the browser test loads (bundled by esbuild): what a web app does
 * with @connectrpc/connect-web. It calls the service on another origin over Connect JSON
 * and over gRPC-Web, and reports what it could read, errors through findDetails.
 */

export interface CallReport {
  ok: boolean;
  accountId?: string;
  code?: string;
  errorType?: string;
  reason?: string;
  violations?: string[];
  message?: string;
}

async function report(call: () => Promise<{ accountId?: string; account?: { id: string } }>): Promise<CallReport> {
  try {
    const res = await call();
    return { ok: true, accountId: res.accountId ?? res.account?.id };
  } catch (e) {
    const err = ConnectError.from(e);
    const info = err.findDetails(ErrorInfoSchema)[0];
    return {
      ok: false,
      code: Code[err.code],
      errorType: info?.metadata.type,
      reason: info?.reason,
      violations: err.findDetails(BadRequestSchema)[0]?.fieldViolations.map((v) => v.field),
      message: err.rawMessage,
    };
  }
}

async function scenario(transport: Transport, apiKey: string, login: string) {
  const client = createClient(AccountService, transport);
  const headers = { "x-api-key": apiKey };
  const connected = await report(() => client.connectAccount({ variant: { case: "twitter", value: { username: login, email: `${login}@example.com`, password: "browser-secret-1" } } }, { headers }));
  return {
    connected,
    fetched: connected.accountId ? await report(() => client.getAccount({ accountId: connected.accountId! }, { headers })) : undefined,
    missing: await report(() => client.getAccount({ accountId: "acc_01HXYZ4QK3WJ8FN3M6QH7TZ8GR" }, { headers })),
    invalid: await report(() => client.connectAccount({ variant: { case: "twitter", value: { username: login, email: "not-an-email", password: "p" } } }, { headers })),
    unauthenticated: await report(() => client.getAccount({ accountId: "acc_01HXYZ4QK3WJ8FN3M6QH7TZ8GR" })),
  };
}

async function runCalls(baseUrl: string, apiKey: string) {
  return {
    connectJson: await scenario(createConnectTransport({ baseUrl }), apiKey, "browser-connect"),
    grpcWeb: await scenario(createGrpcWebTransport({ baseUrl }), apiKey, "browser-grpcweb"),
  };
}

(globalThis as unknown as { runCalls: typeof runCalls }).runCalls = runCalls;
