import { AppError } from "../errors/app-error.ts";
import type { CallPipeline } from "../rpc/call.ts";
import type { NodeHandler } from "./connect.ts";
import { answerJsonError } from "./http-errors.ts";
import { headerReader } from "./node-headers.ts";

/**
 * An HTTP handler built on its first request. The Connect and gRPC-Web handler brings
 * connect-node (~25 ms of start-up and ~13 MB); native gRPC, the probes and REST do not need
 * it, so it is loaded when the HTTP port first gets a request for it. A request that arrives
 * while it loads waits (its body is not read meanwhile); one that finds it failed to load is
 * answered errors/unexpected_error, and the next request tries again.
 */
export function lazyHandler(pipeline: CallPipeline, load: () => Promise<NodeHandler>): NodeHandler {
  let loading: Promise<NodeHandler> | undefined;
  return (req, res, refusal) => {
    (loading ??= load()).then(
      (handler) => handler(req, res, refusal),
      (cause: unknown) => {
        loading = undefined;
        answerJsonError(pipeline, req.url?.split("?", 2)[0] ?? "", headerReader(req), res, new AppError("unexpected_error", { cause }));
      },
    );
  };
}
