import type { Logger } from "pino";
import { isAppError } from "../../errors/app-error.ts";
import type { Sealer } from "../../crypto/sealer.ts";
import type { AttemptResult, ClaimedDelivery, Store } from "../../store/store.ts";
import { eventPayload } from "./event-payload.ts";
import { nextAttemptAt } from "./retry-schedule.ts";
import { signatureHeader } from "./signature.ts";
import { openSigningSecret } from "./webhook-endpoints.ts";
import { guardedFetch, type GuardedFetch } from "../../net/guarded-agent.ts";
import type { TargetGuard } from "../../net/target-guard.ts";
import type { CheckUrl } from "./webhook-target.ts";
import { WorkLoop } from "./work-loop.ts";

export interface WebhookSettings {
  /** 0: this replica delivers nothing on its own (runRound() still works). */
  pollMs: number;
  concurrency: number;
  timeoutMs: number;
  retryForMs: number;
}

export interface WebhookDelivererDeps {
  store: Store;
  sealer: Sealer;
  checkUrl: CheckUrl;
  /** Every POST dials only an address this guard checked (the one it resolved, not a second lookup). */
  guard: TargetGuard;
  settings: WebhookSettings;
  log: Logger;
  now?: () => Date;
  random?: () => number;
}

export const SIGNATURE_HEADER = "postpress-signature";
export const EVENT_ID_HEADER = "postpress-event-id";

/**
 * POSTs each pending delivery to its endpoint, signed. Any replica may run it: deliveries are
 * claimed with a lease (SKIP LOCKED on PostgreSQL), so one replica at a time sends a given
 * event to a given endpoint. A 2xx answer delivers it; anything else is retried on the
 * backoff schedule, and a delivery still failing at the end of it disables its endpoint.
 */
export class WebhookDeliverer {
  private readonly deps: WebhookDelivererDeps;
  private readonly loop: WorkLoop;
  private readonly now: () => Date;
  private readonly http: GuardedFetch;
  private stopping = false;

  constructor(deps: WebhookDelivererDeps) {
    this.deps = deps;
    this.now = deps.now ?? (() => new Date());
    this.http = guardedFetch(deps.guard, "url");
    this.loop = new WorkLoop(() => this.runRound(), deps.settings.pollMs, (err) => deps.log.error({ err }, "webhook delivery round failed"));
  }

  start(): void {
    this.loop.start();
  }

  /** Claims nothing more; POSTs in flight finish (within WEBHOOK_TIMEOUT_MS) and are recorded, so none is sent twice. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.loop.stop();
    await this.http.close();
  }

  /** Sends every delivery due now, `concurrency` at a time; returns how many it attempted. */
  async runRound(): Promise<number> {
    const { store, settings } = this.deps;
    let attempted = 0;
    const now = this.now();
    for (;;) {
      if (this.stopping) return attempted;
      // The lease outlasts one POST: a replica that dies mid-POST leaves the delivery to another after it.
      const claims = await store.claimDeliveries(now, settings.concurrency, new Date(this.now().getTime() + settings.timeoutMs * 3));
      if (claims.length === 0) return attempted;
      await Promise.all(claims.map((claim) => this.attempt(claim)));
      attempted += claims.length;
    }
  }

  private async attempt(claim: ClaimedDelivery): Promise<void> {
    const { delivery, endpoint, event } = claim;
    const at = this.now();
    const answer = await this.post(claim, at);
    let outcome: AttemptResult["outcome"];
    if (answer.ok) {
      outcome = { delivered: true };
    } else {
      const retryAt = nextAttemptAt(delivery.attempts + 1, delivery.createdAt, at, this.deps.settings.retryForMs, this.deps.random);
      outcome = retryAt ? { retryAt } : { gaveUp: `deliveries kept failing for ${Math.round(this.deps.settings.retryForMs / 3_600_000)}h (last: ${answer.error})` };
      this.deps.log.info({ endpointId: endpoint.id, eventId: event.id, attempts: delivery.attempts + 1, error: answer.error, gaveUp: !retryAt }, "webhook delivery failed");
    }
    await this.deps.store.recordAttempt(delivery.id, { at, statusCode: answer.statusCode, error: answer.ok ? null : answer.error, outcome });
  }

  private async post(claim: ClaimedDelivery, at: Date): Promise<{ ok: true; statusCode: number } | { ok: false; statusCode: number | null; error: string }> {
    const { endpoint, event } = claim;
    const body = JSON.stringify(eventPayload(event));
    try {
      const url = new URL(endpoint.url);
      await this.deps.checkUrl(url);
      const response = await this.http.fetch(url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "user-agent": "postpress-accounts-webhooks/1",
          [EVENT_ID_HEADER]: event.id,
          [SIGNATURE_HEADER]: signatureHeader(openSigningSecret(this.deps.sealer, endpoint), body, at),
        },
        body,
        redirect: "manual",
        signal: AbortSignal.timeout(this.deps.settings.timeoutMs),
      });
      // The answer's body is never kept (it could hold anything); it is read away so the connection can be reused.
      await response.arrayBuffer().catch(() => undefined);
      if (response.status >= 200 && response.status < 300) return { ok: true, statusCode: response.status };
      return { ok: false, statusCode: response.status, error: `HTTP ${response.status}` };
    } catch (e) {
      return { ok: false, statusCode: null, error: describe(e) };
    }
  }
}

/** A short, safe account of a failed POST: an error code or name, never a URL or a body. */
function describe(e: unknown): string {
  const cause = e instanceof Error && e.cause instanceof Error ? e.cause : e;
  const code = cause instanceof Error && "code" in cause && typeof cause.code === "string" ? cause.code : undefined;
  if (code) return code;
  if (e instanceof Error && e.name === "TimeoutError") return "timed out";
  if (isAppError(cause)) return "target refused by the URL rules";
  return e instanceof Error ? e.name : "failed";
}
