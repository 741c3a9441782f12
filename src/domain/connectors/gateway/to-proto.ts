import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  AuthenticationEventKind,
  AuthenticationStateSchema,
  AuthenticationStatus,
  StreamEventsResponseSchema,
  type AuthenticationState,
  type StreamEventsResponse,
} from "../../../../gen/postpress/gateway/v1/gateway_pb.js";
import { catalogue } from "../../../errors/catalogue.ts";
import { checkpointToProto } from "../../../rpc/checkpoints.ts";
import type { AuthEvent, AuthState, AuthStatus } from "../interactive.ts";

/** The gateway's side of the contract (convert.ts reads what a gateway answers; this writes it). */
const statusesToProto: Record<AuthStatus, AuthenticationStatus> = {
  PENDING: AuthenticationStatus.PENDING,
  CHECKPOINT: AuthenticationStatus.CHECKPOINT,
  CONNECTED: AuthenticationStatus.CONNECTED,
  FAILED: AuthenticationStatus.FAILED,
  CANCELED: AuthenticationStatus.CANCELED,
  EXPIRED: AuthenticationStatus.EXPIRED,
};

/** The gateway's side: a state as it goes on the wire (the session only on CONNECTED). */
export function stateToProto(state: AuthState, intentId: string): AuthenticationState {
  return create(AuthenticationStateSchema, {
    intentId,
    status: statusesToProto[state.status],
    version: BigInt(state.version),
    checkpoint: state.checkpoint ? checkpointToProto(state.checkpoint) : undefined,
    identity: state.identity,
    errorType: state.errorKind ? catalogue[state.errorKind].type : "",
    details: state.details ?? {},
    updateTime: timestampFromDate(new Date()),
    session: state.status === "CONNECTED" && state.session ? state.session : undefined,
    replicaAddress: state.replica ?? "",
    errorMetadata: state.status === "FAILED" ? (state.errorMetadata ?? {}) : {},
  });
}

export function eventToProto(event: AuthEvent, intentId: string): StreamEventsResponse {
  return create(StreamEventsResponseSchema, { kind: AuthenticationEventKind[event.kind], state: stateToProto(event.state, intentId) });
}
