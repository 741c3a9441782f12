import type { IntentPatch, IntentRecord } from "../../../../store/store.ts";
import { flowStateToJson, parseErrorKind, parseFlowState } from "../core/flow-state.ts";
import type { Intent } from "../core/intent.ts";

/** The core's view of a stored intent; its flow state is validated here, on every read. */
export function intentOf(record: IntentRecord): Intent {
  return {
    id: record.id,
    accountId: record.accountId,
    status: record.status,
    expiresAt: record.expiresAt.getTime(),
    updatedAt: record.updatedAt.getTime(),
    closedAt: record.closedAt?.getTime() ?? null,
    errorKind: parseErrorKind(record.errorKind),
    flow: parseFlowState(record.state),
    revision: record.revision,
  };
}

/** The columns a step changed, as an updateOpenIntent patch. */
export function patchOf(before: Intent, after: Intent): IntentPatch {
  return {
    status: after.status,
    state: flowStateToJson(after.flow),
    expiresAt: new Date(after.expiresAt),
    updatedAt: new Date(after.updatedAt),
    ...(after.errorKind !== before.errorKind ? { errorKind: after.errorKind } : {}),
    ...(after.closedAt !== null && before.closedAt === null ? { closedAt: new Date(after.closedAt) } : {}),
  };
}

/** The provider side's key of an interactive login (our intent id when it started). */
export function providerKeyOf(record: IntentRecord): string {
  const flow = parseFlowState(record.state);
  return flow.flow === "interactive" ? flow.key : record.id;
}
