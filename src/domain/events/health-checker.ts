import type { Logger } from "pino";
import { isAppError } from "../../errors/app-error.ts";
import type { ErrorKind } from "../../errors/catalogue.ts";
import type { CheckResult, ClaimedCheck } from "../../store/store.ts";
import { jittered, nextStatus } from "./check-outcome.ts";
import { verifyAccount, type VerifyDeps } from "./verify-account.ts";
import { WorkLoop } from "./work-loop.ts";

/** A check's outcome before it is given its next check time. */
type Outcome = Omit<CheckResult, "nextCheckAt">;

export interface HealthCheckSettings {
  /** 0: this replica checks nothing on its own (runRound() still works). */
  pollMs: number;
  intervalMs: number;
  /** Per provider ("MAIL", "GOOGLE_OAUTH", ...), overriding intervalMs. */
  providerIntervalsMs: Record<string, number> | undefined;
  jitter: number;
  concurrency: number;
  errorAfter: number;
  timeoutMs: number;
}

export interface HealthCheckerDeps extends VerifyDeps {
  settings: HealthCheckSettings;
  log: Logger;
  now?: () => Date;
  random?: () => number;
}

/**
 * Re-verifies connected accounts with their providers on a schedule. Any replica may run it:
 * accounts are claimed from the store (SKIP LOCKED on PostgreSQL) with a lease of one check
 * timeout, so no account is checked twice at once, and one that a dead replica held is due
 * again once its lease ends. At most `concurrency` checks run at once per replica.
 */
export class HealthChecker {
  private readonly loop: WorkLoop;
  private readonly stopping = new AbortController();
  private readonly now: () => Date;
  private readonly deps: HealthCheckerDeps;

  constructor(deps: HealthCheckerDeps) {
    this.deps = deps;
    this.now = deps.now ?? (() => new Date());
    this.loop = new WorkLoop(() => this.runRound(), deps.settings.pollMs, (err) => deps.log.error({ err }, "health check round failed"));
  }

  start(): void {
    this.loop.start();
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.loop.stop();
  }

  /** Claims and checks every account due now, `concurrency` at a time; returns how many it handled. */
  async runRound(): Promise<number> {
    const { store, settings } = this.deps;
    let handled = 0;
    // Only what is due when the round starts: an account checked in this round is due again later, not now.
    const now = this.now();
    for (;;) {
      if (this.stopping.signal.aborted) return handled;
      // The lease outlasts a check: the claim is released by the check's result, or by time if this replica dies.
      const leaseUntil = new Date(this.now().getTime() + settings.timeoutMs * 2);
      const claims = await store.claimDueChecks(now, settings.concurrency, leaseUntil);
      if (claims.length === 0) return handled;
      await Promise.all(claims.map((claim) => this.handle(claim)));
      handled += claims.length;
    }
  }

  private async handle(claim: ClaimedCheck): Promise<void> {
    const { account } = claim;
    const log = this.deps.log.child({ accountId: account.id, provider: account.provider });
    const unchanged = { status: account.status, reason: account.statusReason ?? null, failures: claim.failures };
    if (!claim.scheduled) {
      // First sight (just linked): a place in the schedule, no check yet: it was verified when linked.
      await this.record(claim, unchanged);
      return;
    }
    let outcome: Outcome;
    try {
      const signal = AbortSignal.any([AbortSignal.timeout(this.deps.settings.timeoutMs), this.stopping.signal]);
      const deadline = new Date(this.now().getTime() + this.deps.settings.timeoutMs);
      const verified = await verifyAccount(account, this.deps, { signal, deadline, log });
      // Nothing to verify it with (a provider session behind a gateway): it keeps its status until its next turn.
      outcome = verified ? nextStatus(account.status, claim.failures, undefined, this.deps.settings) : unchanged;
    } catch (error) {
      if (this.stopping.signal.aborted) return; // shutting down: the lease runs out and the check is done again
      const failure: ErrorKind = isAppError(error) ? error.kind : "unexpected_error";
      if (failure === "unexpected_error") log.error({ err: error }, "health check failed unexpectedly");
      else log.info({ errorType: failure }, "health check failed");
      outcome = nextStatus(account.status, claim.failures, failure, this.deps.settings);
    }
    await this.record(claim, outcome);
  }

  private async record(claim: ClaimedCheck, result: Outcome): Promise<void> {
    const { settings, store } = this.deps;
    const { account } = claim;
    const at = this.now();
    const intervalMs = settings.providerIntervalsMs?.[account.provider] ?? settings.intervalMs;
    const nextCheckAt = new Date(at.getTime() + jittered(intervalMs, settings.jitter, this.deps.random));
    const applied = await store.recordCheck(account.workspaceId, account.id, account.status, { ...result, nextCheckAt }, at);
    if (applied && result.status !== account.status) this.deps.log.info({ accountId: account.id, from: account.status, to: result.status, reason: result.reason }, "account status changed");
  }
}
