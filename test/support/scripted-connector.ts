import { setTimeout as sleep } from "node:timers/promises";
import type { Connector, ConnectorInput, ConnectorResult, Variant, VariantCase } from "../../src/domain/connectors/connector.ts";
import { AppError } from "../../src/errors/app-error.ts";
import type { ErrorKind } from "../../src/errors/catalogue.ts";
import type { ProviderIdentity } from "../../src/store/store.ts";

/**
 * A connector for tests whose behaviour is chosen per request: succeed with an identity,
 * fail with a catalogue error, wait (honouring the call's abort signal or ignoring it).
 * Plain JSON, so a replica process can take its script from the environment.
 */
export interface Step {
  /** Wait this long before answering. */
  waitMs?: number;
  /** Keep waiting after the call's signal aborts (a connector that ignores cancellation). Default false. */
  ignoreSignal?: boolean;
  /** Throw AppError(fail) instead of succeeding. */
  fail?: ErrorKind;
  /** The identity on success; default derived from the login (see defaultIdentity). */
  identity?: ProviderIdentity;
  /** Non-secret details to keep with the account. */
  details?: Record<string, string>;
}

/** Which variants the scripted connector serves: enough for every option the account keeps. */
export const SCRIPTED_VARIANTS = ["mail", "twitter", "linkedinBasic"] as const satisfies readonly VariantCase[];
type ScriptedCase = (typeof SCRIPTED_VARIANTS)[number];

export interface ScriptedCall {
  variant: ScriptedCase;
  login: string;
  step: Step;
  startedAt: number;
  /** When the connector returned or threw (set even if the caller stopped waiting). */
  endedAt?: number;
  /** The call's signal aborted while the connector was working. */
  sawAbort: boolean;
  outcome?: "succeeded" | "failed" | "aborted";
}

export interface ScriptedConnector extends Connector<ScriptedCase> {
  /** Queue steps for one login (twitter / linkedin username, mail imap_user): consumed in order, the last one stays. */
  plan(login: string, ...steps: Step[]): void;
  /** The step for logins without a plan. */
  setDefault(step: Step): void;
  readonly calls: ScriptedCall[];
  callsFor(login: string): ScriptedCall[];
  /** Resolves once no call is inside the connector any more (a late result is being dropped, or not). */
  idle(): Promise<void>;
}

/** The login a request is planned by. */
export function loginOf(variant: Variant): string {
  switch (variant.case) {
    case "mail":
      return variant.value.imapUser;
    case "twitter":
    case "linkedinBasic":
      return variant.value.username;
    default:
      throw new Error(`the scripted connector does not serve ${variant.case}`);
  }
}

/** Success without an explicit identity: the provider user id is the normalised login (mail: user@host). */
export function defaultIdentity(variant: Variant): ProviderIdentity {
  switch (variant.case) {
    case "mail":
      return { providerUserId: `${variant.value.imapUser.toLowerCase()}@${variant.value.imapHost.toLowerCase()}`, email: variant.value.imapUser };
    case "twitter":
      return { providerUserId: `x-${variant.value.username.toLowerCase()}`, handle: variant.value.username, email: variant.value.email, displayName: `X ${variant.value.username}` };
    case "linkedinBasic":
      return { providerUserId: `li-${variant.value.username.toLowerCase()}`, displayName: `LinkedIn ${variant.value.username}` };
    default:
      throw new Error(`the scripted connector does not serve ${variant.case}`);
  }
}

export function createScriptedConnector(defaultStep: Step = {}): ScriptedConnector {
  const plans = new Map<string, Step[]>();
  const calls: ScriptedCall[] = [];
  let fallback = defaultStep;
  const inFlight = new Set<Promise<unknown>>();

  const nextStep = (login: string): Step => {
    const queue = plans.get(login);
    if (!queue || queue.length === 0) return fallback;
    return queue.length > 1 ? queue.shift()! : queue[0]!;
  };

  async function run(input: ConnectorInput<ScriptedCase>, call: ScriptedCall, variant: Variant): Promise<ConnectorResult> {
    const { step } = call;
    const onAbort = () => {
      call.sawAbort = true;
    };
    input.signal.addEventListener("abort", onAbort, { once: true });
    try {
      if (step.waitMs) {
        await sleep(step.waitMs, undefined, step.ignoreSignal ? {} : { signal: input.signal });
      }
      if (step.fail) throw new AppError(step.fail, { metadata: { provider: variant.case } });
      call.outcome = "succeeded";
      return { identity: step.identity ?? defaultIdentity(variant), ...(step.details ? { details: step.details } : {}) };
    } catch (e) {
      // An aborted sleep rejects with the signal's reason (the call's AppError), as a real connector would.
      call.outcome = input.signal.aborted && !(e instanceof AppError && e.kind === step.fail) ? "aborted" : "failed";
      throw e;
    } finally {
      call.endedAt = Date.now();
      input.signal.removeEventListener("abort", onAbort);
    }
  }

  return {
    variants: SCRIPTED_VARIANTS,
    connect(input) {
      // The registry hands over the oneof's value; rebuild the case from the message's type.
      const variant = variantOfValue(input.variant);
      const login = loginOf(variant);
      const call: ScriptedCall = { variant: variant.case as ScriptedCase, login, step: nextStep(login), startedAt: Date.now(), sawAbort: false };
      calls.push(call);
      const work = run(input, call, variant);
      const tracked = work.catch(() => undefined);
      inFlight.add(tracked);
      void tracked.finally(() => inFlight.delete(tracked));
      return work;
    },
    plan(login, ...steps) {
      plans.set(login, steps);
    },
    setDefault(step) {
      fallback = step;
    },
    calls,
    callsFor: (login) => calls.filter((c) => c.login === login),
    async idle() {
      while (inFlight.size > 0) await Promise.all([...inFlight]);
    },
  };
}

const caseByTypeName: Record<string, ScriptedCase> = {
  "postpress.accounts.v1.MailAuth": "mail",
  "postpress.accounts.v1.TwitterAuth": "twitter",
  "postpress.accounts.v1.LinkedinBasicAuth": "linkedinBasic",
};

function variantOfValue(value: ConnectorInput<ScriptedCase>["variant"]): Variant {
  const c = caseByTypeName[value.$typeName];
  if (!c) throw new Error(`the scripted connector does not serve ${value.$typeName}`);
  return { case: c, value } as Variant;
}
