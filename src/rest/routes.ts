import { headerReader } from "../transport/node-headers.ts";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import { create, type DescMethod } from "@bufbuild/protobuf";
import { createContextValues, createHandlerContext, type HandlerContext } from "@connectrpc/connect";
import { AccountStatusSchema, ProviderSchema } from "../../gen/postpress/accounts/v1/account_pb.js";
import {
  AccountService,
  ConnectAccountRequestSchema,
  DeleteAccountRequestSchema,
  GetAccountRequestSchema,
  ListAccountsRequestSchema,
  ResendCheckpointRequestSchema,
  SolveCheckpointRequestSchema,
} from "../../gen/postpress/accounts/v1/account_service_pb.js";
import { MAX_PAGE_SIZE, type AccountsService } from "../domain/accounts/accounts-service.ts";
import { AppError } from "../errors/app-error.ts";
import { asAppError } from "../errors/to-wire.ts";
import { MAX_CONNECT_MS, scopeOf } from "../rpc/accounts.ts";
import { callKey, callOf, type CallPipeline } from "../rpc/call.ts";
import { decodePageToken, encodePageToken, providerFilter, statusFilter } from "../rpc/converters.ts";
import { validateRequest } from "../rpc/validation.ts";
import { readJsonBody } from "./body.ts";
import { checkpointBodyOf } from "./checkpoint-body.ts";
import { connectRequestFromFlat } from "./connect-body.ts";
import { flatFieldName, renameFields, violationError } from "./field-names.ts";
import { OPENAPI_PATH, openApiDocument } from "./openapi.ts";
import { problemOf } from "./problem.ts";
import { accountJson, outcomeAnswer, reconnectAnswer, type RestAnswer } from "./responses.ts";
import { fromContractString } from "./vocabulary.ts";

/** Every path the REST surface answers starts with this; the HTTP port sends them here. */
export const REST_PREFIX = "/api/v1/";

type NodeRequest = IncomingMessage | Http2ServerRequest;
type NodeResponse = ServerResponse | Http2ServerResponse;
/** What both Node response types share and we use. */
interface Reply {
  writeHead(status: number, headers: Record<string, string>): unknown;
  end(body?: string | Buffer): unknown;
  once(event: "close", listener: () => void): unknown;
  readonly writableFinished: boolean;
}

interface Request {
  ctx: HandlerContext;
  params: string[];
  query: URLSearchParams;
  body(): Promise<unknown>;
}

interface Route {
  method: "GET" | "POST" | "DELETE";
  path: RegExp;
  /** The RPC it is: its name in the call's log line, and the HandlerContext the domain scope reads. */
  rpc: DescMethod;
  handle(request: Request): Promise<RestAnswer>;
}

/**
 * The original REST API over the same AccountsService and the same call pipeline as gRPC,
 * gRPC-Web and Connect: authentication (from the headers, before the body is read), the proto's
 * validation rules, the per-call log line, deadlines and the catalogue's errors, here as
 * problem+json. Reconnect is POST /api/v1/accounts/{id} with ConnectAccount's flat body.
 */
export function createRestHandler(accounts: AccountsService, pipeline: CallPipeline, shutdownSignal: AbortSignal) {
  const m = AccountService.method;
  const routes: Route[] = [
    {
      method: "POST",
      path: /^\/api\/v1\/accounts$/,
      rpc: m.connectAccount,
      async handle({ ctx, body }) {
        const request = connectRequestFromFlat(await body());
        await withFieldNames(flatFieldName, () => validateRequest(ConnectAccountRequestSchema, request));
        return outcomeAnswer(await accounts.begin(request, scopeOf(ctx, MAX_CONNECT_MS)));
      },
    },
    {
      method: "POST",
      path: /^\/api\/v1\/accounts\/checkpoint$/,
      rpc: m.solveCheckpoint,
      async handle({ ctx, body }) {
        const { accountId, code } = checkpointBodyOf(await body(), true);
        await validateRequest(SolveCheckpointRequestSchema, create(SolveCheckpointRequestSchema, { accountId, code }));
        return outcomeAnswer(await accounts.solveCheckpoint(callOf(ctx).caller.workspaceId, accountId, code, scopeOf(ctx, MAX_CONNECT_MS)));
      },
    },
    {
      method: "POST",
      path: /^\/api\/v1\/accounts\/checkpoint\/resend$/,
      rpc: m.resendCheckpoint,
      async handle({ ctx, body }) {
        const { accountId } = checkpointBodyOf(await body(), false);
        await validateRequest(ResendCheckpointRequestSchema, create(ResendCheckpointRequestSchema, { accountId }));
        return outcomeAnswer(await accounts.resendCheckpoint(callOf(ctx).caller.workspaceId, accountId, scopeOf(ctx, MAX_CONNECT_MS)));
      },
    },
    {
      method: "GET",
      path: /^\/api\/v1\/accounts$/,
      rpc: m.listAccounts,
      async handle({ ctx, query }) {
        const limit = query.get("limit") ?? "";
        if (limit !== "" && !/^\d{1,9}$/.test(limit)) throw violationError("invalid_parameters", [{ field: "limit", description: "must be a whole number" }]);
        if (Number(limit) > MAX_PAGE_SIZE) throw new AppError("limit_too_high", { detail: `limit is at most ${MAX_PAGE_SIZE}.`, metadata: { maxPageSize: String(MAX_PAGE_SIZE) } });
        const provider = enumQuery(query, "provider", ProviderSchema);
        const status = enumQuery(query, "status", AccountStatusSchema);
        const request = create(ListAccountsRequestSchema, { pageSize: Number(limit), pageToken: query.get("cursor") ?? "", provider, status });
        const rename = (field: string) => ({ page_size: "limit", page_token: "cursor" })[field] ?? field;
        const afterId = await withFieldNames(rename, async () => {
          await validateRequest(ListAccountsRequestSchema, request);
          return decodePageToken(request.pageToken);
        });
        const page = await accounts.list(callOf(ctx).caller.workspaceId, { pageSize: request.pageSize, afterId, provider: providerFilter(provider), status: statusFilter(status) });
        return { status: 200, body: { object: "AccountList", items: page.accounts.map(accountJson), cursor: encodePageToken(page.nextAfterId) || null } };
      },
    },
    {
      method: "GET",
      path: /^\/api\/v1\/accounts\/([^/]+)$/,
      rpc: m.getAccount,
      async handle({ ctx, params }) {
        const accountId = await accountIdOf(GetAccountRequestSchema, params);
        const call = callOf(ctx);
        return { status: 200, body: accountJson(await accounts.get(call.caller.workspaceId, accountId, () => call.log)) };
      },
    },
    {
      method: "POST",
      path: /^\/api\/v1\/accounts\/([^/]+)$/,
      rpc: m.reconnectAccount,
      async handle({ ctx, params, body }) {
        const accountId = await accountIdOf(GetAccountRequestSchema, params);
        const request = connectRequestFromFlat(await body());
        await withFieldNames(flatFieldName, () => validateRequest(ConnectAccountRequestSchema, request));
        // The one field reconnecting itself refuses is the variant, which a flat body picks by its provider.
        const outcome = await withFieldNames(() => "provider", () => accounts.reconnect(accountId, request, scopeOf(ctx, MAX_CONNECT_MS)));
        return reconnectAnswer(outcome);
      },
    },
    {
      method: "DELETE",
      path: /^\/api\/v1\/accounts\/([^/]+)$/,
      rpc: m.deleteAccount,
      async handle({ ctx, params }) {
        const accountId = await accountIdOf(DeleteAccountRequestSchema, params);
        const account = await accounts.delete(callOf(ctx).caller.workspaceId, accountId);
        return { status: 200, body: { object: "AccountDeleted", account_id: account.id, account: accountJson(account) } };
      },
    },
  ];

  /** `refusal`: the request is already refused (an origin CORS does not allow), answered as problem+json. */
  return (req: NodeRequest, res: NodeResponse, refusal?: AppError): void => {
    const reply = res as unknown as Reply;
    const url = new URL(req.url ?? "/", "http://localhost");
    if (!refusal && url.pathname === OPENAPI_PATH && req.method === "GET") {
      reply.writeHead(200, { "content-type": "application/json" });
      reply.end(openApiDocument());
      return;
    }
    const onPath = routes.filter((r) => r.path.test(url.pathname));
    const route = onPath.find((r) => r.method === req.method);
    serve(route, onPath, url, req, reply, refusal).catch(() => (res as { destroy(): void }).destroy());
  };

  async function serve(route: Route | undefined, onPath: Route[], url: URL, req: NodeRequest, reply: Reply, refusal: AppError | undefined): Promise<void> {
    // The same reading as Connect and gRPC-Web: a repeated API key header reaches the authenticator whole, which refuses it.
    const header = headerReader(req);
    const call = pipeline.begin(route?.rpc ?? { name: "UnknownRoute", parent: AccountService }, "rest", header);
    const requestSignal = new AbortController();
    reply.once("close", () => {
      if (!reply.writableFinished) requestSignal.abort();
    });
    const ctx = createHandlerContext({
      service: AccountService,
      method: route?.rpc ?? AccountService.method.getAccount,
      protocolName: "rest",
      requestMethod: req.method ?? "GET",
      url: url.href,
      requestSignal: requestSignal.signal,
      shutdownSignal,
      contextValues: createContextValues().set(callKey, call),
    });
    let answer: RestAnswer | undefined;
    let failure: AppError | undefined;
    try {
      if (refusal) throw refusal;
      if (!route) throw noRoute(req.method ?? "", url.pathname, onPath);
      await pipeline.authenticate(call, header);
      answer = await route.handle({ ctx, params: pathParams(route, url.pathname), query: url.searchParams, body: () => readJsonBody(req) });
    } catch (error) {
      failure = asAppError(error);
    }
    pipeline.finish(call, failure);
    // The call is answered: what the scope of the domain call still holds (timers) is released.
    ctx.abort();
    if (failure) {
      const problem = problemOf(failure, call.requestId);
      const headers: Record<string, string> = { ...problem.headers, "x-request-id": call.requestId };
      if (failure.kind === "not_found" && !route && onPath.length > 0) headers.allow = onPath.map((r) => r.method).join(", ");
      // An oversized HTTP/1.1 body is drained unread; closing the connection bounds that work (HTTP/2 resets the stream itself).
      if (failure.kind === "message_too_large" && req.httpVersionMajor === 1) headers.connection = "close";
      reply.writeHead(problem.status, headers);
      reply.end(JSON.stringify(problem.body));
      return;
    }
    reply.writeHead(answer!.status, { "content-type": "application/json", "x-request-id": call.requestId });
    reply.end(JSON.stringify(answer!.body));
  }
}

/** Runs `work`, its field violations renamed from the proto's names to the ones the caller sent. */
async function withFieldNames<T>(rename: (field: string) => string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw renameFields(error, rename);
  }
}

/** `{id}` of the path, percent-decoded; a bad escape is the contract's errors/unescaped_characters. */
function pathParams(route: Route, pathname: string): string[] {
  return (route.path.exec(pathname) ?? []).slice(1).map((raw) => {
    try {
      return decodeURIComponent(raw);
    } catch {
      throw new AppError("unescaped_characters", { detail: "(a path segment is not valid percent-encoding)" });
    }
  });
}

async function accountIdOf(schema: typeof GetAccountRequestSchema | typeof DeleteAccountRequestSchema, params: string[]): Promise<string> {
  const accountId = params[0] ?? "";
  await withFieldNames((field) => (field === "account_id" ? "id" : field), () => validateRequest(schema, create(schema, { accountId })));
  return accountId;
}

/** `provider=LINKEDIN`, `status=CONNECTED`: the contract's spelling; absent is unset (0). */
function enumQuery(query: URLSearchParams, name: string, schema: typeof ProviderSchema | typeof AccountStatusSchema): number {
  const value = query.get(name);
  if (value === null || value === "") return 0;
  const number = fromContractString(schema, value);
  if (number === undefined) throw violationError("invalid_parameters", [{ field: name, description: `${JSON.stringify(value.slice(0, 64))} is not a known value` }]);
  return number;
}

function noRoute(method: string, path: string, onPath: Route[]): AppError {
  const allowed = onPath.map((r) => r.method).join(", ");
  const shown = path.slice(0, 128);
  return new AppError("not_found", { detail: allowed ? `(${shown} answers ${allowed}, not ${method})` : `(no REST route ${shown}; see ${OPENAPI_PATH})` });
}
