import { once } from "node:events";
import { AppError } from "../../src/errors/app-error.ts";
import type { AuthEvent, AuthState, InteractiveConnector } from "../../src/domain/connectors/interactive.ts";

/**
 * The provider side of the watcher bench, in process: every WhatsApp login stops at a QR code
 * valid for an hour and nothing else happens (no rotation, no scan), so what the bench measures
 * is the engine and the transports holding pending intents, not a provider.
 */
export function idleQrConnector(): InteractiveConnector<"whatsapp"> {
  const states = new Map<string, AuthState>();
  // A login another replica started: nothing to report (a shared gateway would know it; this one only has nothing new).
  const stateOf = (key: string): AuthState => states.get(key) ?? { status: "PENDING", version: 0 };
  return {
    kind: "interactive",
    variants: ["whatsapp"],
    async start(input) {
      const state: AuthState = { status: "CHECKPOINT", version: 1, checkpoint: { type: "QR_CODE", qrCode: `2@bench-${input.intentId},1`, expiresAt: new Date(Date.now() + 3_600_000).toISOString() } };
      states.set(input.intentId, state);
      return state;
    },
    async solve() {
      throw new AppError("no_pending_checkpoint");
    },
    async resend(key) {
      return stateOf(key);
    },
    async cancel(key) {
      const state: AuthState = { status: "CANCELED", version: stateOf(key).version + 1 };
      states.set(key, state);
      return state;
    },
    async get(key) {
      return stateOf(key);
    },
    async *events(key, signal): AsyncGenerator<AuthEvent> {
      yield { kind: "SNAPSHOT", state: stateOf(key) };
      // Nothing more happens until the follower stops.
      await once(signal, "abort").catch(() => {});
    },
  };
}
