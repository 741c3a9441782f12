import { describe, expect, it } from "vitest";
import type { Effect, Input, Reply, Rules } from "../../../src/domain/accounts/engine/core/inputs.ts";
import { inputOfReport } from "../../../src/domain/accounts/engine/core/inputs.ts";
import type { Intent, InteractiveFlow } from "../../../src/domain/accounts/engine/core/intent.ts";
import { step } from "../../../src/domain/accounts/engine/core/step.ts";
import { eventOf } from "../../../src/domain/accounts/engine/core/watch-events.ts";
import type { IntentStatus } from "../../../src/store/store.ts";

/** The core alone: every transition, illegal input and race, as tables. No I/O, no clock. */

const T0 = 1_000_000;
const rules: Rules = { ttlMs: 120_000, lateOutcomeGraceMs: 30_000 };
const qr = (n: number) => ({ type: "QR_CODE" as const, qrCode: `qr-${n}`, expiresAt: new Date(T0 + 20_000 * n).toISOString() });
const twoFactor = { type: "TWO_FACTOR" as const, codeSentTo: "+33 6 ** ** 12" };
const login = { identity: { providerUserId: "u1" } };

function interactive(status: IntentStatus, flow: Partial<InteractiveFlow> = {}, rest: Partial<Intent> = {}): Intent {
  return {
    id: "int_1",
    accountId: "acc_1",
    status,
    expiresAt: T0 + 60_000,
    updatedAt: T0,
    closedAt: status === "OPEN" || status === "CHECKPOINT" ? null : T0,
    errorKind: status === "FAILED" ? "invalid_credentials" : null,
    flow: { flow: "interactive", variant: "whatsapp", key: "int_1", version: 1, seq: 1, checkpoint: status === "CHECKPOINT" ? twoFactor : null, ...flow },
    revision: 3,
    ...rest,
  };
}
const fresh = interactive("OPEN", { version: 0, seq: 0 });
const oneShot: Intent = { ...fresh, flow: { flow: "one_shot" } };
const waiting = interactive("CHECKPOINT");
const due = interactive("CHECKPOINT", {}, { expiresAt: T0 - 1 });
const closed = (status: IntentStatus) => interactive(status);

interface Row {
  name: string;
  intent: Intent;
  input: Input;
  at?: number;
  /** Expected changes (status, errorKind, ...) or "same" (the very same object: nothing to write). */
  next: "same" | Partial<Intent>;
  flow?: Partial<InteractiveFlow> & { duplicateOf?: string };
  effects: Effect["type"][];
  reply?: Reply["type"] | { kind: string } | undefined;
}

const transitions: Row[] = [
  // Commands.
  { name: "begin on a fresh interactive intent starts the login", intent: fresh, input: { type: "begin" }, next: "same", effects: ["start"] },
  { name: "begin on a fresh one-shot intent starts the connector", intent: oneShot, input: { type: "begin" }, next: "same", effects: ["start"] },
  { name: "solve on a waiting checkpoint calls the provider side", intent: waiting, input: { type: "solve", code: "123456" }, next: "same", effects: ["solve"] },
  { name: "resend on a waiting checkpoint calls the provider side", intent: waiting, input: { type: "resend" }, next: "same", effects: ["resend"] },
  { name: "cancel ends an open intent CANCELED and cancels remotely", intent: waiting, input: { type: "cancel" }, next: { status: "CANCELED", errorKind: "operation_canceled", closedAt: T0 }, effects: ["cancelRemote"], reply: "canceled" },
  { name: "cancel twice is answered the same, with nothing to do", intent: closed("CANCELED"), input: { type: "cancel" }, next: "same", effects: [], reply: "canceled" },
  { name: "restart replaces an open intent: CANCELED, canceled remotely", intent: waiting, input: { type: "restart" }, next: { status: "CANCELED" }, effects: ["cancelRemote"] },
  // Provider events.
  { name: "a first checkpoint: CHECKPOINT, seq+1, expiry from the checkpoint", intent: interactive("OPEN", { version: 0, seq: 0 }), input: { type: "checkpoint", version: 1, checkpoint: qr(1) }, next: { status: "CHECKPOINT", expiresAt: T0 + 20_000 }, flow: { seq: 1, version: 1 }, effects: [] },
  { name: "a refreshed QR code: seq+1, expiry pushed on", intent: interactive("CHECKPOINT", { checkpoint: qr(1) }), input: { type: "checkpoint", version: 2, checkpoint: qr(2) }, next: { expiresAt: T0 + 40_000 }, flow: { seq: 2, version: 2 }, effects: [] },
  { name: "a checkpoint without expiry lives the TTL", intent: interactive("OPEN", { version: 0, seq: 0 }), input: { type: "checkpoint", version: 1, checkpoint: twoFactor }, next: { expiresAt: T0 + rules.ttlMs }, effects: [] },
  { name: "pending changes nothing", intent: waiting, input: { type: "pending", version: 5 }, next: "same", effects: [] },
  { name: "connected asks for the account", intent: waiting, input: { type: "connected", version: 2, login }, next: "same", effects: ["createAccount"] },
  { name: "connected after our expiry (nobody ended it) gets the grace", intent: due, input: { type: "connected", version: 2, login }, next: { expiresAt: T0 + rules.lateOutcomeGraceMs }, effects: ["createAccount"] },
  { name: "failed ends the intent with the provider's kind, nothing to cancel", intent: waiting, input: { type: "failed", version: 2, errorKind: "invalid_credentials" }, next: { status: "FAILED", errorKind: "invalid_credentials" }, effects: [] },
  { name: "the provider side canceling ends it CANCELED", intent: waiting, input: { type: "ended", version: 2, status: "CANCELED" }, next: { status: "CANCELED" }, effects: [] },
  { name: "the provider side expiring ends it EXPIRED", intent: waiting, input: { type: "ended", version: 2, status: "EXPIRED" }, next: { status: "EXPIRED", errorKind: "intent_expired" }, effects: [] },
  // Effects' answers.
  { name: "a duplicate identity: FAILED already_exists, naming the account", intent: waiting, input: { type: "duplicate", accountId: "acc_old" }, next: { status: "FAILED", errorKind: "already_exists" }, flow: { duplicateOf: "acc_old" }, effects: ["cancelRemote"] },
  { name: "a reconnection's login is another identity: FAILED account_mismatch, dropped remotely", intent: waiting, input: { type: "refused", errorKind: "account_mismatch" }, next: { status: "FAILED", errorKind: "account_mismatch", closedAt: T0 }, effects: ["cancelRemote"] },
  { name: "a one-shot reconnection whose account was deleted: FAILED not_found", intent: oneShot, input: { type: "refused", errorKind: "not_found" }, next: { status: "FAILED", errorKind: "not_found" }, effects: [] },
  { name: "a start that failed at the provider: FAILED, canceled remotely", intent: fresh, input: { type: "callFailed", call: "start", errorKind: "request_timeout" }, next: { status: "FAILED", errorKind: "request_timeout" }, effects: ["cancelRemote"], reply: "callError" },
  { name: "a start that reached no gateway: FAILED, nothing to cancel", intent: fresh, input: { type: "callFailed", call: "start", errorKind: "no_channel" }, next: { status: "FAILED" }, effects: [], reply: "callError" },
  { name: "a one-shot connector failure: FAILED, nothing to cancel", intent: oneShot, input: { type: "callFailed", call: "start", errorKind: "invalid_credentials" }, next: { status: "FAILED" }, effects: [], reply: "callError" },
  { name: "a wrong code leaves the checkpoint open", intent: waiting, input: { type: "callFailed", call: "solve", errorKind: "invalid_checkpoint_code" }, next: "same", effects: [], reply: "callError" },
  { name: "a lost session on solve kills the intent", intent: waiting, input: { type: "callFailed", call: "solve", errorKind: "no_client_session" }, next: { status: "FAILED", errorKind: "no_client_session" }, effects: [], reply: "callError" },
  { name: "a lost session seen by the follower kills the intent", intent: waiting, input: { type: "callFailed", call: "follow", errorKind: "no_client_session" }, next: { status: "FAILED" }, effects: [] },
  { name: "a probe at the expiry finds the session gone: FAILED, not EXPIRED", intent: due, input: { type: "callFailed", call: "probe", errorKind: "no_client_session" }, next: { status: "FAILED", errorKind: "no_client_session" }, effects: [] },
  { name: "a gateway down for a moment: the follower's intent waits on", intent: waiting, input: { type: "callFailed", call: "follow", errorKind: "no_channel" }, next: "same", effects: [] },
  // Ticks.
  { name: "expiry before the time changes nothing", intent: waiting, input: { type: "expiry", probed: false }, next: "same", effects: [] },
  { name: "expiry of an interactive intent asks the provider side first", intent: due, input: { type: "expiry", probed: false }, next: "same", effects: ["probe"] },
  { name: "expiry after the probe: EXPIRED, canceled remotely", intent: due, input: { type: "expiry", probed: true }, next: { status: "EXPIRED", errorKind: "intent_expired" }, effects: ["cancelRemote"] },
  { name: "expiry of a one-shot intent: EXPIRED at once", intent: { ...oneShot, expiresAt: T0 - 1 }, input: { type: "expiry", probed: false }, next: { status: "EXPIRED" }, effects: [] },
];

const illegal: Row[] = [
  { name: "begin twice", intent: waiting, input: { type: "begin" }, next: "same", effects: [], reply: { kind: "checkpoint" } },
  { name: "solve with no checkpoint yet", intent: interactive("OPEN"), input: { type: "solve", code: "1" }, next: "same", effects: [], reply: { kind: "no_pending_checkpoint" } },
  { name: "solve on a one-shot intent", intent: oneShot, input: { type: "solve", code: "1" }, next: "same", effects: [], reply: { kind: "no_pending_checkpoint" } },
  { name: "solve after the expiry: EXPIRED, intent_expired", intent: due, input: { type: "solve", code: "1" }, next: { status: "EXPIRED" }, effects: ["cancelRemote"], reply: { kind: "intent_expired" } },
  { name: "solve on a canceled intent", intent: closed("CANCELED"), input: { type: "solve", code: "1" }, next: "same", effects: [], reply: { kind: "operation_canceled" } },
  { name: "resend on an expired intent", intent: closed("EXPIRED"), input: { type: "resend" }, next: "same", effects: [], reply: { kind: "intent_expired" } },
  { name: "solve on a failed intent: authentication_intent_error", intent: closed("FAILED"), input: { type: "solve", code: "1" }, next: "same", effects: [], reply: { kind: "authentication_intent_error" } },
  { name: "solve on a connected intent answers the account", intent: closed("CONNECTED"), input: { type: "solve", code: "1" }, next: "same", effects: [], reply: "account" },
  { name: "cancel on a connected intent", intent: closed("CONNECTED"), input: { type: "cancel" }, next: "same", effects: [], reply: "account" },
  { name: "cancel on a failed intent", intent: closed("FAILED"), input: { type: "cancel" }, next: "same", effects: [], reply: { kind: "authentication_intent_error" } },
  { name: "restart of an ended intent", intent: closed("EXPIRED"), input: { type: "restart" }, next: "same", effects: [] },
  { name: "a stale checkpoint (older version)", intent: interactive("CHECKPOINT", { version: 5 }), input: { type: "checkpoint", version: 4, checkpoint: qr(9) }, next: "same", effects: [] },
  { name: "a stale connected (older version)", intent: interactive("CHECKPOINT", { version: 5 }), input: { type: "connected", version: 4, login }, next: "same", effects: [] },
  { name: "a stale failure (older version)", intent: interactive("CHECKPOINT", { version: 5 }), input: { type: "failed", version: 4, errorKind: "provider_error" }, next: "same", effects: [] },
  { name: "a refusal after the intent ended", intent: closed("CANCELED"), input: { type: "refused", errorKind: "account_mismatch" }, next: "same", effects: [] },
  { name: "a duplicate after the intent ended", intent: closed("CANCELED"), input: { type: "duplicate", accountId: "acc_x" }, next: "same", effects: [] },
  { name: "expiry of an ended intent", intent: { ...closed("CANCELED"), expiresAt: T0 - 1 }, input: { type: "expiry", probed: true }, next: "same", effects: [] },
];

const races: Row[] = [
  { name: "late event after cancel: a checkpoint is ignored", intent: closed("CANCELED"), input: { type: "checkpoint", version: 9, checkpoint: qr(3) }, next: "same", effects: [] },
  { name: "late event after cancel: connected creates no account", intent: closed("CANCELED"), input: { type: "connected", version: 9, login }, next: "same", effects: [] },
  { name: "late event after cancel: failed changes nothing", intent: closed("CANCELED"), input: { type: "failed", version: 9, errorKind: "provider_error" }, next: "same", effects: [] },
  { name: "expiry during solve, then the solve's answer: connected is dropped", intent: closed("EXPIRED"), input: { type: "connected", version: 2, login }, next: "same", effects: [] },
  { name: "expiry during solve, then the solve's error: the intent's own end answers", intent: closed("EXPIRED"), input: { type: "callFailed", call: "solve", errorKind: "request_timeout" }, next: "same", effects: [], reply: { kind: "intent_expired" } },
  { name: "canceled by a restart while the start waited: the start's error is not the answer", intent: closed("CANCELED"), input: { type: "callFailed", call: "start", errorKind: "request_canceled" }, next: "same", effects: [], reply: { kind: "operation_canceled" } },
  { name: "a follower heard of the lost session first: the solve answers that same error", intent: { ...closed("FAILED"), errorKind: "no_client_session" }, input: { type: "callFailed", call: "solve", errorKind: "no_client_session" }, next: "same", effects: [], reply: "callError" },
];

function check(row: Row) {
  const result = step(row.intent, row.input, row.at ?? T0, rules);
  if (row.next === "same") expect(result.intent).toBe(row.intent);
  else {
    expect(result.intent).not.toBe(row.intent);
    expect(result.intent).toMatchObject(row.next);
    expect(result.intent.updatedAt).toBe(row.at ?? T0);
  }
  if (row.flow) expect(result.intent.flow).toMatchObject(row.flow);
  expect(result.effects.map((e) => e.type)).toEqual(row.effects);
  if (row.reply === undefined) expect(result.reply).toBeUndefined();
  else if (typeof row.reply === "string") expect(result.reply?.type).toBe(row.reply);
  else if (row.reply.kind === "checkpoint") expect(result.reply?.type).toBe("checkpoint");
  else expect(result.reply).toMatchObject({ type: "error", kind: row.reply.kind });
}

describe("step(): transitions", () => {
  it.each(transitions.map((r) => [r.name, r] as const))("%s", (_name, row) => check(row));
});
describe("step(): illegal inputs change nothing (or answer what the intent is)", () => {
  it.each(illegal.map((r) => [r.name, r] as const))("%s", (_name, row) => check(row));
});
describe("step(): races the store settles", () => {
  it.each(races.map((r) => [r.name, r] as const))("%s", (_name, row) => check(row));

  it("two replicas applying the same event: the second application, on the written result, is a no-op", () => {
    const event: Input = { type: "checkpoint", version: 2, checkpoint: qr(2) };
    const first = step(interactive("CHECKPOINT", { checkpoint: qr(1) }), event, T0, rules);
    const second = step(first.intent, event, T0 + 5, rules);
    expect(second.intent).toBe(first.intent);
    expect(second.effects).toEqual([]);
    // The loser of the compare-and-set re-reads and steps again: connected twice asks for the account twice, and the store's transaction lets one through.
    const connected = step(first.intent, { type: "connected", version: 3, login }, T0, rules);
    expect(connected.effects.map((e) => e.type)).toEqual(["createAccount"]);
  });

  it("an older report arriving after a newer one is dropped", () => {
    const newer = step(interactive("CHECKPOINT", { checkpoint: qr(1) }), { type: "checkpoint", version: 3, checkpoint: qr(3) }, T0, rules).intent;
    expect(step(newer, { type: "checkpoint", version: 2, checkpoint: qr(2) }, T0, rules).intent).toBe(newer);
  });
});

describe("replies after a provider answer (fresh)", () => {
  it("a duplicate names the existing account; a failure answers its own kind", () => {
    const dup = step(waiting, { type: "duplicate", accountId: "acc_old" }, T0, rules).intent;
    const failed = step(waiting, { type: "failed", version: 2, errorKind: "account_restricted" }, T0, rules).intent;
    const solveOn = (intent: Intent) => step(intent, { type: "solve", code: "1" }, T0, rules).reply;
    expect(solveOn(dup)).toMatchObject({ kind: "authentication_intent_error", metadata: { failure: "errors/already_exists" } });
    expect(solveOn(failed)).toMatchObject({ kind: "authentication_intent_error", metadata: { failure: "errors/account_restricted" } });
  });
});

describe("provider reports as inputs", () => {
  it.each([
    [{ status: "PENDING", version: 1 }, "pending"],
    [{ status: "CHECKPOINT", version: 1, checkpoint: twoFactor }, "checkpoint"],
    [{ status: "CHECKPOINT", version: 1 }, "pending"],
    [{ status: "CONNECTED", version: 1, identity: { providerUserId: "u" } }, "connected"],
    [{ status: "CONNECTED", version: 1 }, "failed"],
    [{ status: "FAILED", version: 1 }, "failed"],
    [{ status: "CANCELED", version: 1 }, "ended"],
    [{ status: "EXPIRED", version: 1 }, "ended"],
  ] as const)("%o → %s", (state, type) => {
    expect(inputOfReport(state).type).toBe(type);
  });
});

describe("gateway replicas and failure details", () => {
  it("an open intent keeps the replica a report names (so later calls go there); a closed one does not change", () => {
    const input = inputOfReport({ status: "CHECKPOINT", version: 1, checkpoint: qr(1), replica: "10.0.0.7:50061" });
    const t = step(fresh, input, T0, rules);
    expect(t.intent.flow).toMatchObject({ flow: "interactive", replica: "10.0.0.7:50061" });
    // The same replica again: nothing to write.
    const again = step(t.intent, inputOfReport({ status: "PENDING", version: 1, replica: "10.0.0.7:50061" }), T0, rules);
    expect(again.intent).toBe(t.intent);
    const moved = step(t.intent, inputOfReport({ status: "PENDING", version: 1, replica: "10.0.0.8:50061" }), T0, rules);
    expect(moved.intent.flow).toMatchObject({ replica: "10.0.0.8:50061" });
    const ended = closed("CANCELED");
    expect(step(ended, inputOfReport({ status: "PENDING", version: 9, replica: "x:1" }), T0, rules).intent).toBe(ended);
  });

  it("a FAILED report carries the provider's retry hint and safe metadata", () => {
    const input = inputOfReport({ status: "FAILED", version: 1, errorKind: "provider_error", retryAfterMs: 42_000, errorMetadata: { subtask: "LoginEnterPassword" } });
    expect(input).toMatchObject({ type: "failed", errorKind: "provider_error", retryAfterMs: 42_000, metadata: { subtask: "LoginEnterPassword" } });
  });
});

describe("watch events", () => {
  it("PENDING, CHECKPOINT, CHECKPOINT_REFRESHED, then the end, each once", () => {
    const open = interactive("OPEN", { version: 0, seq: 0 });
    const a = eventOf(open, undefined)!;
    expect(a.event.kind).toBe("PENDING");
    expect(eventOf(open, a.seen)).toBeUndefined();
    const q1 = step(open, { type: "checkpoint", version: 1, checkpoint: qr(1) }, T0, rules).intent;
    const b = eventOf(q1, a.seen)!;
    expect(b.event).toMatchObject({ kind: "CHECKPOINT", checkpoint: { qrCode: "qr-1" } });
    const q2 = step(q1, { type: "checkpoint", version: 2, checkpoint: qr(2) }, T0, rules).intent;
    const c = eventOf(q2, b.seen)!;
    expect(c.event.kind).toBe("CHECKPOINT_REFRESHED");
    expect(eventOf(q2, c.seen)).toBeUndefined();
    const gone = step(q2, { type: "cancel" }, T0, rules).intent;
    expect(eventOf(gone, c.seen)!.event).toMatchObject({ kind: "CANCELED", errorType: "errors/operation_canceled" });
  });
});
