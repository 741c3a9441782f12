import { Writable } from "node:stream";
import type { Logger } from "pino";
import { createLogger } from "../../src/logging.ts";

/** A real pino logger whose lines are kept, so tests can assert on what was logged. */
export function capturedLogger(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString("utf8").split("\n").filter(Boolean));
      done();
    },
  });
  return { log: createLogger({ level: "debug", destination }), lines };
}
