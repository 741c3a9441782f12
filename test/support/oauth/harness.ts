import { inspect } from "node:util";
import pino, { type Logger } from "pino";
import type { SharedOptions } from "../../../src/domain/connectors/connector.ts";
import { isAppError, type AppError } from "../../../src/errors/app-error.ts";

/** What a connector gets besides its variant, with the log captured in memory. */
export interface RequestContext {
  shared: SharedOptions;
  signal: AbortSignal;
  deadline: Date;
  log: Logger;
}

export interface CapturedRequest {
  context: RequestContext;
  /** Every log line written so far, as pino wrote it (JSON). */
  lines: string[];
}

/**
 * A request context like the server builds: the signal aborts on `signal` or at the
 * deadline. The logger is plain pino at trace level, without the service's redaction,
 * so a token logged by mistake would show.
 */
export function requestContext(options: { timeoutMs?: number; signal?: AbortSignal } = {}): CapturedRequest {
  const timeoutMs = options.timeoutMs ?? 5_000;
  const lines: string[] = [];
  const log = pino({ level: "trace" }, { write: (line: string) => void lines.push(line) });
  const signals = [AbortSignal.timeout(timeoutMs), ...(options.signal ? [options.signal] : [])];
  return {
    context: { shared: { country: "", ip: "" }, signal: AbortSignal.any(signals), deadline: new Date(Date.now() + timeoutMs), log },
    lines,
  };
}

/** Runs `attempt`, expects an AppError, and logs it the way the server does (with its cause). */
export async function failure(attempt: Promise<unknown>, log: Logger): Promise<AppError> {
  try {
    await attempt;
  } catch (e) {
    if (!isAppError(e)) throw e;
    log.error({ err: e, kind: e.kind, metadata: e.metadata }, "connect failed");
    return e;
  }
  throw new Error("expected the connector to fail");
}

/** The secrets found in an error (message, metadata, causes, stack) or in log lines. */
export function leaks(where: AppError | string[], secrets: string[]): string[] {
  const text = Array.isArray(where) ? where.join("\n") : `${inspect(where, { depth: 10 })}\n${JSON.stringify(where.metadata)}`;
  return secrets.filter((secret) => text.includes(secret));
}

/** Keeps every request's log lines and every failure of a test, to look for secrets in all of them afterwards. */
export interface LeakWatch {
  request(options?: { timeoutMs?: number; signal?: AbortSignal }): CapturedRequest;
  failure(attempt: Promise<unknown>, context: RequestContext): Promise<AppError>;
  /** The secrets that showed since the last call, then forgets what it kept. */
  leaked(secrets: string[]): string[];
}

export function watchForLeaks(): LeakWatch {
  let lines: string[][] = [];
  let errors: AppError[] = [];
  return {
    request(options) {
      const captured = requestContext(options);
      lines.push(captured.lines);
      return captured;
    },
    async failure(attempt, context) {
      const error = await failure(attempt, context.log);
      errors.push(error);
      return error;
    },
    leaked(secrets) {
      const found = new Set([...leaks(lines.flat(), secrets), ...errors.flatMap((error) => leaks(error, secrets))]);
      lines = [];
      errors = [];
      return [...found];
    },
  };
}
