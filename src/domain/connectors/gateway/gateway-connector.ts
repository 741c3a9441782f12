import { createHash } from "node:crypto";
import * as grpc from "@grpc/grpc-js";
import { create, fromBinary, toBinary, type DescMessage, type DescMethodServerStreaming, type DescMethodUnary, type MessageInitShape, type MessageShape } from "@bufbuild/protobuf";
import type { Logger } from "pino";
import { ProviderGatewayService } from "../../../../gen/postpress/gateway/v1/gateway_pb.js";
import type { AppError } from "../../../errors/app-error.ts";
// The gateway's answers are bounded as ours are.
import { MAX_MESSAGE_BYTES } from "../../../message-limits.ts";
import { credentialsOfRequest } from "../../credentials/connect-request.ts";
import type { VariantCase } from "../connector.ts";
import { FINAL_AUTH_STATUSES, type AuthEvent, type AuthState, type InteractiveCall, type InteractiveConnector, type StartInput } from "../interactive.ts";
import { eventFromProto, stateFromProto } from "./convert.ts";
import { gatewayError } from "./errors.ts";

export interface GatewayConnectorOptions<C extends VariantCase> {
  /** The provider, as configuration names it (e.g. "WHATSAPP"): for logs and error metadata. */
  provider: string;
  /** host:port of the gateway, plaintext HTTP/2; several replicas comma-separated. */
  address: string;
  variants: readonly C[];
}

export interface GatewayConnector<C extends VariantCase = VariantCase> extends InteractiveConnector<C> {
  readonly provider: string;
  readonly address: string;
  /** Closes the channel; calls in flight fail. */
  close(): void;
}

/** A wrong code is the person's typo, not an incident: only trouble with the gateway itself is a warning. */
const ROUTINE: ReadonlySet<string> = new Set(["invalid_checkpoint_code", "no_pending_checkpoint", "request_timeout"]);

function levelOf(error: AppError): "debug" | "warn" {
  return ROUTINE.has(error.kind) ? "debug" : "warn";
}

/** Intents whose replica this process remembers from the gateway's answers (oldest forgotten first). */
const MAX_REMEMBERED_ROUTES = 10_000;

/** The replica every server replica picks for a key alike, with nothing stored: rendezvous hashing. */
function rendezvous(key: string, replicas: readonly string[]): string {
  let best = replicas[0]!;
  let bestScore = -1;
  for (const replica of replicas) {
    const score = createHash("sha256").update(`${replica}\n${key}`).digest().readUIntBE(0, 6);
    if (score > bestScore) [best, bestScore] = [replica, score];
  }
  return best;
}

/**
 * An InteractiveConnector backed by a provider-session gateway (postpress.gateway.v1). One
 * grpc-js channel per gateway, created here once and reused by every call: grpc-js connects
 * lazily and reconnects by itself, with a short backoff so a restarted gateway is found again
 * within a couple of seconds. Calls never wait for a channel to become ready: a gateway that
 * is not there answers no_channel at once.
 */
export function createGatewayConnector<C extends VariantCase>(options: GatewayConnectorOptions<C>): GatewayConnector<C> {
  const replicas = options.address.split(",").map((a) => a.trim()).filter(Boolean);
  const clients = new Map<string, grpc.Client>();
  const routes = new Map<string, string>();
  const gateway = options.provider;
  const methods = ProviderGatewayService.method;

  function clientFor(address: string): grpc.Client {
    let client = clients.get(address);
    if (!client) {
      client = new grpc.Client(address, grpc.credentials.createInsecure(), {
        "grpc.initial_reconnect_backoff_ms": 200,
        "grpc.max_reconnect_backoff_ms": 2000,
        "grpc.max_receive_message_length": MAX_MESSAGE_BYTES,
        "grpc.max_send_message_length": MAX_MESSAGE_BYTES,
      });
      clients.set(address, client);
    }
    return client;
  }

  /**
   * The replica holding an intent's session: the one the caller names (kept on the intent),
   * else the one a gateway answered with, else the rendezvous pick, which every server
   * replica computes alike from the configured list.
   */
  function replicaFor(key: string, call?: InteractiveCall): string {
    return call?.replica ?? routes.get(key) ?? rendezvous(key, replicas);
  }

  function remember(key: string, state: AuthState): AuthState {
    if (FINAL_AUTH_STATUSES.has(state.status)) routes.delete(key);
    else if (state.replica && routes.get(key) !== state.replica) {
      routes.delete(key);
      routes.set(key, state.replica);
      if (routes.size > MAX_REMEMBERED_ROUTES) routes.delete(routes.keys().next().value!);
    }
    return state;
  }

  function unary<I extends DescMessage, O extends DescMessage>(method: DescMethodUnary<I, O>, input: MessageInitShape<I> & { intentId: string }, call: InteractiveCall): Promise<MessageShape<O>> {
    const client = clientFor(replicaFor(input.intentId, call));
    const context = { gateway, method: method.name };
    return new Promise((resolve, reject) => {
      if (call.signal.aborted) {
        reject(call.signal.reason);
        return;
      }
      let settled = false;
      const grpcCall = client.makeUnaryRequest(
        `/${method.parent.typeName}/${method.name}`,
        (m: MessageShape<I>) => Buffer.from(toBinary(method.input, m)),
        (b: Buffer) => fromBinary(method.output, b),
        create(method.input, input),
        new grpc.Metadata(),
        { deadline: call.deadline },
        (err, response) => {
          call.signal.removeEventListener("abort", onAbort);
          if (settled) return;
          settled = true;
          if (err) {
            const error = gatewayError(err, context);
            call.log[levelOf(error)]({ gateway, method: method.name, grpcCode: grpc.status[err.code], errorType: error.entry.type }, "gateway call failed");
            reject(error);
          } else resolve(response!);
        },
      );
      // The caller's reason (timeout, cancellation, intent canceled) wins over grpc-js's CANCELLED.
      const onAbort = () => {
        if (settled) return;
        settled = true;
        grpcCall.cancel();
        reject(call.signal.reason);
      };
      call.signal.addEventListener("abort", onAbort, { once: true });
    });
  }

  async function* serverStream<I extends DescMessage, O extends DescMessage>(method: DescMethodServerStreaming<I, O>, input: MessageInitShape<I> & { intentId: string }, signal: AbortSignal, log: Logger): AsyncGenerator<MessageShape<O>> {
    signal.throwIfAborted();
    const stream = clientFor(replicaFor(input.intentId)).makeServerStreamRequest(
      `/${method.parent.typeName}/${method.name}`,
      (m: MessageShape<I>) => Buffer.from(toBinary(method.input, m)),
      (b: Buffer) => fromBinary(method.output, b),
      create(method.input, input),
      new grpc.Metadata(),
    );
    const onAbort = () => stream.cancel();
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      for await (const message of stream as AsyncIterable<MessageShape<O>>) yield message;
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      const error = gatewayError(err, { gateway, method: method.name });
      log[levelOf(error)]({ gateway, method: method.name, grpcCode: grpc.status[(err as grpc.ServiceError).code], errorType: error.entry.type }, "gateway stream failed");
      throw error;
    } finally {
      signal.removeEventListener("abort", onAbort);
      stream.cancel();
    }
  }

  return {
    kind: "interactive",
    provider: options.provider,
    address: options.address,
    variants: options.variants,

    async start(input: StartInput, call: InteractiveCall): Promise<AuthState> {
      const response = await unary(
        methods.startAuthentication,
        // The contract carries the service's own credentials type, not the accounts API's request.
        { intentId: input.intentId, workspaceId: input.workspaceId, accountId: input.accountId, ...credentialsOfRequest(input.request) },
        call,
      );
      return remember(input.intentId, stateFromProto(response.state));
    },
    async solve(key, code, call) {
      return remember(key, stateFromProto((await unary(methods.solve, { intentId: key, code }, call)).state));
    },
    async resend(key, call) {
      return remember(key, stateFromProto((await unary(methods.resend, { intentId: key }, call)).state));
    },
    async cancel(key, call) {
      return remember(key, stateFromProto((await unary(methods.cancel, { intentId: key }, call)).state));
    },
    async get(key, call) {
      return remember(key, stateFromProto((await unary(methods.getIntent, { intentId: key }, call)).state));
    },
    async *events(key, signal, log): AsyncGenerator<AuthEvent> {
      for await (const event of serverStream(methods.streamEvents, { intentId: key }, signal, log)) {
        const converted = eventFromProto(event);
        remember(key, converted.state);
        yield converted;
      }
    },
    close() {
      for (const client of clients.values()) client.close();
      clients.clear();
    },
  };
}
