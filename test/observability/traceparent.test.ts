import { describe, expect, it } from "vitest";
import { AccountService } from "../../gen/postpress/accounts/v1/account_service_pb.js";
import { startRpcTrace } from "../../src/observability/rpc-trace.ts";

const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT = "00f067aa0ba902b7";

/** The trace id a call takes from its `traceparent` header (tracing off: the caller's, or none). */
function traceIdOf(traceparent: string | undefined): string | undefined {
  const rpc = startRpcTrace(AccountService.method.getAccount, "grpc", (name) => (name === "traceparent" ? traceparent : undefined));
  rpc.end(undefined);
  return rpc.traceId;
}

describe("traceparent (W3C Trace Context)", () => {
  it("takes the caller's trace id from a valid header, sampled or not", () => {
    expect(traceIdOf(`00-${TRACE}-${PARENT}-01`)).toBe(TRACE);
    expect(traceIdOf(`00-${TRACE}-${PARENT}-00`)).toBe(TRACE);
    // A later version may append fields: its first four are read.
    expect(traceIdOf(`01-${TRACE}-${PARENT}-01-whatever`)).toBe(TRACE);
  });

  it("ignores what the specification says to ignore", () => {
    expect(traceIdOf(undefined)).toBeUndefined();
    expect(traceIdOf("")).toBeUndefined();
    expect(traceIdOf("garbage")).toBeUndefined();
    expect(traceIdOf(`ff-${TRACE}-${PARENT}-01`)).toBeUndefined();
    expect(traceIdOf(`00-${TRACE}-${PARENT}-01-extra`)).toBeUndefined();
    expect(traceIdOf(`00-${TRACE.toUpperCase()}-${PARENT}-01`)).toBeUndefined();
    expect(traceIdOf(`00-${"0".repeat(32)}-${PARENT}-01`)).toBeUndefined();
    expect(traceIdOf(`00-${TRACE}-${"0".repeat(16)}-01`)).toBeUndefined();
    expect(traceIdOf(`00-${TRACE.slice(1)}-${PARENT}-01`)).toBeUndefined();
  });
});
