/**
 * Baseline: a no-op unary handler on bare @connectrpc/connect-node (h2c, as h2load speaks
 * it), on the service's own RPC paths. connect-node decodes each request and encodes the
 * fixed answer read from `--responses DIR/<Method>.bin` (bytes the real service answered):
 * same request bytes, same response bytes.
 */
import { readFileSync } from "node:fs";
import * as http2 from "node:http2";
import { join } from "node:path";
import { fromBinary } from "@bufbuild/protobuf";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { AccountService, ConnectAccountResponseSchema, GetAccountResponseSchema, ListAccountsResponseSchema } from "../../gen/postpress/accounts/v1/account_service_pb.js";
import { counters, option, serveControl } from "./common.ts";

const dir = option("responses")!;
const load = (name: string) => {
  try {
    return readFileSync(join(dir, `${name}.bin`));
  } catch {
    return new Uint8Array();
  }
};
const connectAccount = fromBinary(ConnectAccountResponseSchema, load("ConnectAccount"));
const getAccount = fromBinary(GetAccountResponseSchema, load("GetAccount"));
const listAccounts = fromBinary(ListAccountsResponseSchema, load("ListAccounts"));

// Handler calls, compared with the requests sent. The answers themselves are checked by h2load's
// status counts: the Connect protocol sends errors as non-2xx HTTP statuses.
counters.handlerCalls = 0;
const handler = connectNodeAdapter({
  routes: (router) =>
    router.service(AccountService, {
      connectAccount: () => (counters.handlerCalls!++, connectAccount),
      getAccount: () => (counters.handlerCalls!++, getAccount),
      listAccounts: () => (counters.handlerCalls!++, listAccounts),
    }),
});
const server = http2.createServer({}, handler);
const httpPort = await new Promise<number>((resolve, reject) => {
  server.once("error", reject);
  server.listen(0, "127.0.0.1", () => resolve((server.address() as { port: number }).port));
});

serveControl({ kind: "connect-noop", httpPort }, { quiesce: () => new Promise((resolve) => server.close(() => resolve())) });
