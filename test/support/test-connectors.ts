import { randomUUID } from "node:crypto";
import type { Connector, ConnectorInput, ConnectorResult, VariantCase } from "../../src/domain/connectors/connector.ts";
import { AppError } from "../../src/errors/app-error.ts";
import { catalogue, type ErrorKind } from "../../src/errors/catalogue.ts";

/** The 12 request variants, in the proto's order. */
export const ALL_VARIANTS = [
  "linkedinBasic",
  "linkedinCookie",
  "whatsapp",
  "instagramBasic",
  "instagramCookie",
  "messengerBasic",
  "messengerSession",
  "mail",
  "googleOauth",
  "telegram",
  "outlook",
  "twitter",
] as const satisfies readonly VariantCase[];

/** What the scripted connector saw of one call. */
export interface ConnectorCall {
  typeName: string;
  command: string | undefined;
  startedAt: number;
  endedAt: number | undefined;
  /** Set when the call's signal was aborted while the connector was still working. */
  abortReason: unknown;
  signalAborted: boolean;
  /** How the connector ended: "ok", "threw", or "aborted". */
  outcome: "pending" | "ok" | "threw" | "aborted";
}

export interface ScriptedConnector extends Connector {
  readonly calls: ConnectorCall[];
}

/**
 * A provider-edge test double. Its behaviour is scripted by a command carried in any string
 * field of the variant (first match, depth-first: username, user_agent, proxy.username,
 * cookie values, header values, ...):
 *
 * - `throw:<kind>`: throws `new AppError(<kind>)` for that catalogue key (e.g. throw:upstream_timeout)
 * - `crash`: throws a plain Error (the service must answer errors/unexpected_error)
 * - `wait`: waits on the call's abort signal, then rethrows its reason
 * - `sleep:<ms>`: succeeds after <ms> (or gives up when the signal aborts)
 * - none: succeeds with a fresh provider identity
 */
export function scriptedConnector(variants: readonly VariantCase[] = ALL_VARIANTS): ScriptedConnector {
  const calls: ConnectorCall[] = [];
  return {
    variants,
    calls,
    async connect(input: ConnectorInput): Promise<ConnectorResult> {
      const command = findCommand(input.variant);
      const call: ConnectorCall = {
        typeName: input.variant.$typeName,
        command,
        startedAt: Date.now(),
        endedAt: undefined,
        abortReason: undefined,
        signalAborted: false,
        outcome: "pending",
      };
      calls.push(call);
      const onAbort = () => {
        call.signalAborted = true;
        call.abortReason = input.signal.reason;
      };
      if (input.signal.aborted) onAbort();
      else input.signal.addEventListener("abort", onAbort, { once: true });
      try {
        const result = await run(command, input.signal);
        call.outcome = "ok";
        return result;
      } catch (error) {
        call.outcome = input.signal.aborted && error === input.signal.reason ? "aborted" : "threw";
        throw error;
      } finally {
        // Only aborts while the connector works count: the call's signal is released afterwards.
        input.signal.removeEventListener("abort", onAbort);
        call.endedAt = Date.now();
      }
    },
  };
}

async function run(command: string | undefined, signal: AbortSignal): Promise<ConnectorResult> {
  const identity = { providerUserId: `test-${randomUUID()}`, displayName: "Test Person" };
  if (command === undefined) return { identity };
  if (command.startsWith("throw:")) {
    const kind = command.slice("throw:".length);
    if (!(kind in catalogue)) throw new Error(`test connector: no catalogue kind ${JSON.stringify(kind)}`);
    throw new AppError(kind as ErrorKind);
  }
  if (command === "crash") throw new Error("test connector crashed");
  if (command === "wait") {
    await new Promise<never>((_, reject) => {
      if (signal.aborted) reject(signal.reason);
      signal.addEventListener("abort", () => reject(signal.reason), { once: true });
    });
  }
  if (command.startsWith("sleep:")) {
    const ms = Number(command.slice("sleep:".length));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, ms);
      signal.addEventListener(
        "abort",
        () => {
          clearTimeout(timer);
          reject(signal.reason);
        },
        { once: true },
      );
    });
  }
  return { identity };
}

const COMMAND = /^(throw:\w+|crash|wait|sleep:\d+)$/;

function findCommand(value: unknown): string | undefined {
  if (typeof value === "string") return COMMAND.test(value) ? value : undefined;
  if (value === null || typeof value !== "object") return undefined;
  for (const [key, field] of Object.entries(value)) {
    if (key === "$typeName") continue;
    const found = findCommand(field);
    if (found) return found;
  }
  return undefined;
}
