import * as grpc from "@grpc/grpc-js";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Code, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import {
  AccountEventKind,
  AccountService,
  WatchAccountRequestSchema,
  WatchAccountResponseSchema,
  type AccountEvent,
  type WatchAccountResponse,
} from "../../../gen/postpress/accounts/v1/account_service_pb.js";
import { failureFromConnectError, failureFromStatus, type Endpoint, type RpcFailure } from "../../support/clients.ts";

/** The wires a stream can be watched over: native gRPC (grpc-js) and connect-node's Connect and gRPC-Web. */
export type StreamWire = "grpc" | "connect-binary" | "grpc-web";

export type WatchEnd = { ok: true } | { ok: false; error: RpcFailure };

/** A running WatchAccount stream, as a test sees it. */
export interface Watch {
  readonly events: AccountEvent[];
  /** Resolves with the index-th event (0-based) once it has arrived. */
  event(index: number, timeoutMs?: number): Promise<AccountEvent>;
  /** Resolves with the first event (from `from` on) of this kind. */
  waitFor(kind: AccountEventKind, timeoutMs?: number, from?: number): Promise<AccountEvent>;
  /** How the stream ended. */
  readonly end: Promise<WatchEnd>;
  /** Resolves once the stream ended, with every event it carried. */
  finished(timeoutMs?: number): Promise<{ events: AccountEvent[]; end: WatchEnd }>;
  cancel(): void;
}


export function kindName(kind: AccountEventKind): string {
  return AccountEventKind[kind];
}

export function kinds(events: AccountEvent[]): string[] {
  return events.map((e) => kindName(e.kind));
}

class Collector implements Watch {
  readonly events: AccountEvent[] = [];
  private waiters: (() => void)[] = [];
  private resolveEnd!: (end: WatchEnd) => void;
  readonly end: Promise<WatchEnd>;
  cancel: () => void = () => {};
  private ended: WatchEnd | undefined;

  constructor() {
    this.end = new Promise((resolve) => (this.resolveEnd = resolve));
  }

  push(event: AccountEvent): void {
    this.events.push(event);
    this.flush();
  }

  finish(end: WatchEnd): void {
    if (this.ended) return;
    this.ended = end;
    this.resolveEnd(end);
    this.flush();
  }

  private flush(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  private async until<T>(test: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = test();
      if (found !== undefined) return found;
      if (this.ended) throw new Error(`stream ended (${JSON.stringify(endSummary(this.ended))}) before ${what}; got ${kinds(this.events).join(", ")}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; got ${kinds(this.events).join(", ")}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  event(index: number, timeoutMs = 5000): Promise<AccountEvent> {
    return this.until(() => this.events[index], timeoutMs, `event #${index}`);
  }

  waitFor(kind: AccountEventKind, timeoutMs = 5000, from = 0): Promise<AccountEvent> {
    return this.until(() => this.events.slice(from).find((e) => e.kind === kind), timeoutMs, kindName(kind));
  }

  async finished(timeoutMs = 5000): Promise<{ events: AccountEvent[]; end: WatchEnd }> {
    const end = await this.until(() => this.ended, timeoutMs, "the end of the stream");
    return { events: this.events, end };
  }
}

function endSummary(end: WatchEnd): unknown {
  return end.ok ? "ok" : { code: Code[end.error.code], type: end.error.errorInfo?.metadata.type };
}


/** Starts WatchAccount over `wire`; events are collected as they arrive. */
export function watchAccount(endpoint: Endpoint, wire: StreamWire, apiKey: string, accountId: string, options: { timeoutMs?: number } = {}): Watch {
  const collector = new Collector();
  if (wire === "grpc") {
    const client = new grpc.Client(endpoint.grpcAddress, grpc.credentials.createInsecure());
    const metadata = new grpc.Metadata();
    metadata.set("x-api-key", apiKey);
    const method = AccountService.method.watchAccount;
    const call = client.makeServerStreamRequest(
      `/${AccountService.typeName}/${method.name}`,
      (m: Uint8Array) => Buffer.from(m),
      (b: Buffer) => fromBinary(WatchAccountResponseSchema, b),
      toBinary(WatchAccountRequestSchema, create(WatchAccountRequestSchema, { accountId })),
      metadata,
      options.timeoutMs ? { deadline: Date.now() + options.timeoutMs } : {},
    );
    call.on("data", (m: WatchAccountResponse) => collector.push(m.event!));
    // Failures also come as "error"; "status" comes for every end, with the trailers.
    call.on("error", () => {});
    call.on("status", (status: grpc.StatusObject) => {
      setImmediate(() => {
        if (status.code === grpc.status.OK) collector.finish({ ok: true });
        else {
          collector.finish({ ok: false, error: failureFromStatus(status.code, status.details, status.metadata?.get("grpc-status-details-bin")[0]) });
        }
        client.close();
      });
    });
    collector.cancel = () => call.cancel();
    return collector;
  }
  const transport =
    wire === "grpc-web"
      ? createGrpcWebTransport({ baseUrl: endpoint.httpUrl, httpVersion: "2" })
      : createConnectTransport({ baseUrl: endpoint.httpUrl, httpVersion: "1.1", useBinaryFormat: true });
  const client = createClient(AccountService, transport);
  const abort = new AbortController();
  collector.cancel = () => abort.abort();
  (async () => {
    try {
      for await (const m of client.watchAccount({ accountId }, { headers: { "x-api-key": apiKey }, signal: abort.signal, ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}) })) {
        collector.push(m.event!);
      }
      collector.finish({ ok: true });
    } catch (e) {
      collector.finish({ ok: false, error: failureFromConnectError(e) });
    }
  })();
  return collector;
}
