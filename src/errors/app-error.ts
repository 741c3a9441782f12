import { catalogue, type ErrorKind } from "./catalogue.ts";

/** One broken validation rule, reported as a google.rpc.BadRequest field violation. */
export interface FieldViolation {
  field: string;
  description: string;
}

export interface AppErrorOptions {
  /** Safe, human-readable precision appended to the catalogue message. Never a secret. */
  detail?: string;
  /** Safe context for ErrorInfo.metadata (ids, protocol, host). Never a secret. */
  metadata?: Record<string, string>;
  violations?: FieldViolation[];
  /** When the provider told us when to retry. */
  retryAfterMs?: number;
  /** Logged on the server, never sent. */
  cause?: unknown;
}

/** The only error the domain throws: it names a catalogue entry plus safe metadata. */
export class AppError extends Error {
  readonly kind: ErrorKind;
  readonly metadata: Record<string, string>;
  readonly violations: FieldViolation[];
  readonly retryAfterMs: number | undefined;

  constructor(kind: ErrorKind, options: AppErrorOptions = {}) {
    const base = catalogue[kind].message;
    super(options.detail ? `${base} ${options.detail}` : base, { cause: options.cause });
    this.name = "AppError";
    this.kind = kind;
    this.metadata = options.metadata ?? {};
    this.violations = options.violations ?? [];
    this.retryAfterMs = options.retryAfterMs;
  }

  get entry() {
    return catalogue[this.kind];
  }
}

export function isAppError(e: unknown): e is AppError {
  return e instanceof AppError;
}
