import { AppError } from "../../errors/app-error.ts";
import type { EventRecord, Store } from "../../store/store.ts";

const PAGE = 500;

/**
 * A workspace's events from a cursor on: what the store holds after it, then what arrives.
 * Events are read back from the store (every replica writes there), every `pollMs` once the
 * consumer has caught up; a workspace's events become visible in cursor order (the store
 * numbers them so), so nothing is skipped and each account's events come in the order they happened.
 */
export class EventStream {
  private readonly store: Store;
  private readonly pollMs: number;
  private readonly stopping = new AbortController();

  constructor(deps: { store: Store; pollMs: number }) {
    this.store = deps.store;
    this.pollMs = deps.pollMs;
  }

  /** Ends when `signal` aborts (the consumer left); fails with service_unavailable when the server drains. */
  async *follow(workspaceId: string, afterSeq: number, signal: AbortSignal): AsyncGenerator<EventRecord> {
    let cursor = afterSeq;
    const ended = AbortSignal.any([signal, this.stopping.signal]);
    while (!ended.aborted) {
      const page = await this.store.listEvents(workspaceId, cursor, PAGE);
      for (const event of page) {
        yield event;
        cursor = event.seq;
      }
      if (page.length < PAGE) await pause(this.pollMs, ended);
    }
    if (this.stopping.signal.aborted && !signal.aborted) {
      throw new AppError("service_unavailable", { detail: "The server is shutting down: resume with the cursor of the last event received." });
    }
  }

  stop(): void {
    this.stopping.abort();
  }
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

/** The stream's cursor as callers see it: opaque. */
export function encodeCursor(seq: number): string {
  return Buffer.from(`e${seq}`).toString("base64url");
}

export function decodeCursor(cursor: string): number {
  if (cursor === "") return 0;
  const m = /^e(\d{1,15})$/.exec(Buffer.from(cursor, "base64url").toString("utf8"));
  if (!m) throw new AppError("invalid_parameters", { violations: [{ field: "cursor", description: "not a cursor this service issued" }] });
  return Number(m[1]);
}
