import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { TwitterAuthSchema } from "../../gen/postpress/accounts/v1/variants_pb.js";
import type { ProviderDriver } from "../../src/drivers/driver.ts";
import { startLogin, wrongCode, type LoginFlow, type RuntimeSettings } from "../../src/drivers/login/runtime.ts";
import { AppError, isAppError } from "../../src/errors/app-error.ts";
import { drive, settled } from "../support/drivers/drive.ts";

/** The login runtime with scripted flows: the corner cases the provider fakes do not reach. */
const settings: RuntimeSettings = { checkpointTtlMs: 60_000, approvalPollMs: 10 };
const variant = create(TwitterAuthSchema, { username: "u", email: "u@example.com", password: "p" });
const driverOf = (flow: LoginFlow, s = settings): ProviderDriver<"twitter"> => ({ variants: ["twitter"], begin: (input) => startLogin(input, flow, s) });
const run = (flow: LoginFlow, s = settings) => drive(driverOf(flow, s), variant);
const outcome = { identity: { providerUserId: "42" }, session: { format: "test/v1", data: "{}" } };
const timeout = () => AbortSignal.timeout(5000);

function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

describe("the login runtime", () => {
  it("PENDING first, then the flow's verdict with its metadata", async () => {
    const d = run(async () => Promise.reject(new AppError("action_required", { metadata: { subtask: "ArkoseLogin" } })));
    expect(d.states[0]?.status).toBe("PENDING");
    expect(await settled(d)).toEqual({ status: "FAILED", version: 0, errorKind: "action_required", errorMetadata: { subtask: "ArkoseLogin" } });
  });

  it("a foreign error is unexpected_error, and its message is not logged", async () => {
    const d = run(async () => Promise.reject(new Error("provider said secret-Planted-7")));
    expect(await settled(d)).toMatchObject({ status: "FAILED", errorKind: "unexpected_error" });
    expect(d.lines.join("\n")).not.toContain("secret-Planted-7");
  });

  it("a retryable failure while checking a code leaves the checkpoint open; a second solve meanwhile is auth_in_progress", async () => {
    const slow = gate();
    let calls = 0;
    const d = run(
      async (context) => {
        await context.askCode({
          info: { type: "OTP" },
          attempt: async (code) => {
            calls++;
            if (calls === 1) throw new AppError("request_timeout");
            if (calls === 2) await slow.opened;
            if (code !== "good") throw wrongCode("Test");
            return true;
          },
        });
        return outcome;
      },
    );
    await d.until("CHECKPOINT");
    const first = await d.login.solve("good", timeout()).catch((e: unknown) => e);
    expect(isAppError(first) && first.kind).toBe("request_timeout");
    expect(d.login.current().status).toBe("CHECKPOINT");
    const second = d.login.solve("good", timeout());
    const busy = await d.login.solve("good", timeout()).catch((e: unknown) => e);
    expect(isAppError(busy) && busy.kind).toBe("auth_in_progress");
    slow.open();
    expect((await second).status).toBe("CONNECTED");
  });

  it("a login canceled while a code is being checked answers CANCELED, not a hang", async () => {
    const slow = gate();
    const d = run(
      async (context) => {
        await context.askCode({ info: { type: "TWO_FACTOR" }, attempt: async () => slow.opened.then(() => true) });
        return outcome;
      },
    );
    await d.until("CHECKPOINT");
    const solving = d.login.solve("123456", timeout());
    await d.login.cancel();
    slow.open();
    expect((await solving).status).toBe("CANCELED");
  });

  it("an approval keeps polling through a retryable failure, and ends at the provider's verdict", async () => {
    let polls = 0;
    const d = run(
      async (context) => {
        await context.awaitApproval({
          info: { type: "IN_APP_VALIDATION" },
          poll: async () => {
            polls++;
            if (polls === 1) throw new AppError("provider_unreachable");
            return polls >= 3 ? true : undefined;
          },
        });
        return outcome;
      },
    );
    expect(await settled(d)).toMatchObject({ status: "CONNECTED", identity: { providerUserId: "42" } });
    expect(polls).toBe(3);
  });

  it("an open checkpoint expires: EXPIRED, the flow's signal aborted, its resources released", async () => {
    let released = false;
    let aborted: AbortSignal | undefined;
    const d = run(
      async (context) => {
        aborted = context.signal;
        context.onEnd(async () => {
          released = true;
        });
        await context.askCode({ info: { type: "OTP" }, attempt: async () => true });
        return outcome;
      },
      { checkpointTtlMs: 100, approvalPollMs: 10 },
    );
    const cp = await d.until("CHECKPOINT");
    expect(Date.parse(cp.checkpoint!.expiresAt!) - Date.now()).toBeLessThanOrEqual(100);
    expect((await settled(d)).status).toBe("EXPIRED");
    expect(aborted?.aborted).toBe(true);
    await expect.poll(() => released).toBe(true);
  });
});
