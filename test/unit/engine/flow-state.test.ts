import { describe, expect, it } from "vitest";
import { flowStateToJson, parseFlowState } from "../../../src/domain/accounts/engine/core/flow-state.ts";
import type { FlowState } from "../../../src/domain/accounts/engine/core/intent.ts";

/** The stored flow state of a reconnection: its marker survives the round trip through the store's JSON, and nothing else passes for it. */
describe("a reconnection's flow state", () => {
  it.each<FlowState>([
    { flow: "one_shot", reconnect: true },
    { flow: "interactive", variant: "linkedinBasic", key: "int_1", version: 2, seq: 1, checkpoint: { type: "TWO_FACTOR" }, reconnect: true },
    { flow: "one_shot" },
  ])("round-trips %j", (flow) => {
    expect(parseFlowState(JSON.parse(JSON.stringify(flowStateToJson(flow))) as Record<string, unknown>)).toEqual(flow);
  });

  it("refuses a marker that is not true, naming the field", () => {
    expect(() => parseFlowState({ v: 1, flow: "one_shot", reconnect: "yes" })).toThrow(/reconnect must be true/);
  });
});
