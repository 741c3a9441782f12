import type { EventRecord } from "../../store/store.ts";

/**
 * An event as webhook receivers get it (the POST body, JSON). The shape is part of the
 * contract: documented in the README, stable across versions.
 */
export function eventPayload(event: EventRecord): Record<string, unknown> {
  return {
    id: event.id,
    type: event.type,
    created: event.createdAt.toISOString(),
    workspace_id: event.workspaceId,
    account_id: event.accountId,
    data: event.change ? { from: event.change.from, to: event.change.to, reason: event.change.reason } : {},
  };
}
