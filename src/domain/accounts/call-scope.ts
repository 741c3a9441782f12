import type { Logger } from "pino";

/** What a domain call needs from the RPC around it. */
export interface CallScope {
  workspaceId: string;
  /** Aborted with an AppError (request_timeout, request_canceled) as its reason. */
  signal: AbortSignal;
  deadline: Date;
  log: Logger;
}
