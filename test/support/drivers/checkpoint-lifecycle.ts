import { expect, it } from "vitest";
import type { CheckpointKind } from "../../../src/domain/connectors/interactive.ts";
import { isAppError } from "../../../src/errors/app-error.ts";
import { settled } from "./drive.ts";
import type { HostedDriven } from "./web-hosts.ts";

/** One checkpoint a provider can raise, as a row of a driver's table. */
export interface CheckpointCase {
  /** The fake's name for the hurdle (a LinkedIn challenge type, an Instagram or X step). */
  hurdle: string;
  type: CheckpointKind;
  /** The fake's count of codes sent again, when the provider lets the code be resent; absent: resend is refused. */
  resends?: () => number;
  /** Starts a login of a fresh member who meets this hurdle (`shortTtl`: on the host whose checkpoints expire soon). */
  start(options?: { shortTtl?: boolean }): HostedDriven;
}

/**
 * For every row: the checkpoint is raised, resent where the provider allows (refused with
 * no_pending_checkpoint where it does not), canceled (then nothing is left to solve), and, on
 * the short-lived host, expires (state polled, no timing asserted). Solving is each driver's
 * own test: the codes differ.
 */
export function checkpointLifecycle(cases: readonly CheckpointCase[]): void {
  it.each(cases.map((c) => [c.hurdle, c.type, c] as const))("%s is %s: resent where allowed, canceled, and expires", async (_hurdle, type, c) => {
    const d = c.start();
    expect((await d.until("CHECKPOINT")).checkpoint?.type).toBe(type);
    if (c.resends) {
      const before = c.resends();
      expect(await d.resend()).toMatchObject({ status: "CHECKPOINT", checkpoint: { type } });
      expect(c.resends()).toBe(before + 1);
    } else {
      const refused = await d.resend().catch((e: unknown) => e);
      expect(isAppError(refused) && refused.kind).toBe("no_pending_checkpoint");
    }
    expect((await d.cancel()).status).toBe("CANCELED");
    expect((await d.current()).status).toBe("CANCELED");
    const late = await d.solve("123456").catch((e: unknown) => e);
    expect(isAppError(late) && late.kind).toBe("no_pending_checkpoint");

    const e = c.start({ shortTtl: true });
    expect((await e.until("CHECKPOINT")).checkpoint?.type).toBe(type);
    expect(await settled(e)).toMatchObject({ status: "EXPIRED" });
    // The first expiry row starts the short-lived twin host (a second gateway process): room for that on a loaded machine.
  }, 60_000);
}
