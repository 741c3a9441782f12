import { describe, expect, it } from "vitest";
import { stateFromProto } from "../../../src/domain/connectors/gateway/convert.ts";
import { stateToProto } from "../../../src/domain/connectors/gateway/to-proto.ts";

/**
 * A FAILED state's safe metadata (X's subtask, a LinkedIn challenge type) crosses the gateway
 * protocol (AuthenticationState.error_metadata); what reaches the caller is only short
 * word-like pairs, whatever a gateway sends.
 */
describe("a FAILED state's error metadata through the gateway protocol", () => {
  it("is carried over: the pairs a driver reports reach the server's side", () => {
    const state = stateFromProto(stateToProto({ status: "FAILED", version: 3, errorKind: "action_required", errorMetadata: { subtask: "ArkoseLogin", provider: "X" } }, "int_1"));
    expect(state).toEqual({ status: "FAILED", version: 3, errorKind: "action_required", errorMetadata: { subtask: "ArkoseLogin", provider: "X" } });
  });

  it("keeps only short word-like pairs, and none on other statuses", () => {
    const wire = stateToProto({ status: "FAILED", version: 1, errorKind: "provider_error", errorMetadata: { ok: "a.b:c@d+e-f", "not a key": "v", spaced: "two words", long: "x".repeat(129) } }, "int_2");
    expect(stateFromProto(wire).errorMetadata).toEqual({ ok: "a.b:c@d+e-f" });
    expect(stateToProto({ status: "CANCELED", version: 2, errorMetadata: { subtask: "x" } }, "int_3").errorMetadata).toEqual({});
    expect(stateFromProto(stateToProto({ status: "FAILED", version: 1, errorKind: "invalid_credentials" }, "int_4")).errorMetadata).toBeUndefined();
  });
});
