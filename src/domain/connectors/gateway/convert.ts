import { timestampDate } from "@bufbuild/protobuf/wkt";
import { CheckpointType, type Checkpoint } from "../../../../gen/postpress/accounts/v1/account_service_pb.js";
import { AuthenticationEventKind, AuthenticationStatus, type AuthenticationState, type StreamEventsResponse } from "../../../../gen/postpress/gateway/v1/gateway_pb.js";
import { AppError } from "../../../errors/app-error.ts";
import type { AuthEvent, AuthEventKind, AuthState, AuthStatus, CheckpointInfo, CheckpointKind } from "../interactive.ts";
import { kindOfType } from "./errors.ts";

/** Bounds on what a gateway may make us store and show: its payloads are not trusted blindly. */
const MAX_PAYLOAD_CHARS = 64 * 1024;
/** A provider session (a Baileys auth state grows with the keys it holds) may be larger. */
const MAX_SESSION_CHARS = 1024 * 1024;
const REPLICA_ADDRESS = /^(?:[\w.-]+|\[[0-9a-fA-F:.]+\]):\d{1,5}$/;

const checkpointKinds: Record<CheckpointType, CheckpointKind | undefined> = {
  [CheckpointType.UNSPECIFIED]: undefined,
  [CheckpointType.TWO_FACTOR]: "TWO_FACTOR",
  [CheckpointType.OTP]: "OTP",
  [CheckpointType.IN_APP_VALIDATION]: "IN_APP_VALIDATION",
  [CheckpointType.CAPTCHA]: "CAPTCHA",
  [CheckpointType.PHONE_REGISTER]: "PHONE_REGISTER",
  [CheckpointType.QR_CODE]: "QR_CODE",
  [CheckpointType.PAIRING_CODE]: "PAIRING_CODE",
};

const statuses: Record<AuthenticationStatus, AuthStatus | undefined> = {
  [AuthenticationStatus.UNSPECIFIED]: undefined,
  [AuthenticationStatus.PENDING]: "PENDING",
  [AuthenticationStatus.CHECKPOINT]: "CHECKPOINT",
  [AuthenticationStatus.CONNECTED]: "CONNECTED",
  [AuthenticationStatus.FAILED]: "FAILED",
  [AuthenticationStatus.CANCELED]: "CANCELED",
  [AuthenticationStatus.EXPIRED]: "EXPIRED",
};

const eventKinds: Record<AuthenticationEventKind, AuthEventKind | undefined> = {
  [AuthenticationEventKind.UNSPECIFIED]: undefined,
  [AuthenticationEventKind.SNAPSHOT]: "SNAPSHOT",
  [AuthenticationEventKind.CHECKPOINT]: "CHECKPOINT",
  [AuthenticationEventKind.CHECKPOINT_REFRESHED]: "CHECKPOINT_REFRESHED",
  [AuthenticationEventKind.CONNECTED]: "CONNECTED",
  [AuthenticationEventKind.FAILED]: "FAILED",
  [AuthenticationEventKind.CANCELED]: "CANCELED",
  [AuthenticationEventKind.EXPIRED]: "EXPIRED",
};

function bounded(value: string, field: string): string | undefined {
  if (value === "") return undefined;
  if (value.length > MAX_PAYLOAD_CHARS) throw malformed(`${field} is longer than ${MAX_PAYLOAD_CHARS} characters`);
  return value;
}

/** What of a failure's metadata goes on to the caller: a few short word-like pairs (a step's or a challenge's name, a provider code). */
const SAFE_KEY = /^\w{1,64}$/;
const SAFE_VALUE = /^[\w.:@+-]{1,128}$/;
const MAX_METADATA_PAIRS = 16;

function safeMetadata(metadata: Record<string, string>): Record<string, string> {
  const pairs = Object.entries(metadata).filter(([key, value]) => SAFE_KEY.test(key) && SAFE_VALUE.test(value));
  return Object.fromEntries(pairs.slice(0, MAX_METADATA_PAIRS));
}

function malformed(what: string): AppError {
  return new AppError("provider_error", { detail: `The gateway answered a malformed state (${what}).` });
}

function checkpointFromProto(checkpoint: Checkpoint): CheckpointInfo {
  const type = checkpointKinds[checkpoint.type];
  if (!type) throw malformed("checkpoint without a type");
  const info: CheckpointInfo = { type };
  const qrCode = bounded(checkpoint.qrCode, "qr_code");
  const pairingCode = bounded(checkpoint.pairingCode, "pairing_code");
  const captchaData = bounded(checkpoint.captchaData, "captcha_data");
  const codeSentTo = bounded(checkpoint.codeSentTo, "code_sent_to");
  if (qrCode) info.qrCode = qrCode;
  if (pairingCode) info.pairingCode = pairingCode;
  if (captchaData) info.captchaData = captchaData;
  if (codeSentTo) info.codeSentTo = codeSentTo;
  if (checkpoint.expireTime) info.expiresAt = timestampDate(checkpoint.expireTime).toISOString();
  return info;
}

/** A gateway's state, checked: each status carries what it needs (a checkpoint, an identity, a known error type). */
export function stateFromProto(state: AuthenticationState | undefined): AuthState {
  if (!state) throw malformed("no state");
  const status = statuses[state.status];
  if (!status) throw malformed("unknown status");
  const out: AuthState = { status, version: Number(state.version) };
  if (state.replicaAddress) {
    if (!REPLICA_ADDRESS.test(state.replicaAddress)) throw malformed("replica_address is not host:port");
    out.replica = state.replicaAddress;
  }
  switch (status) {
    case "CHECKPOINT":
      if (!state.checkpoint) throw malformed("CHECKPOINT without a checkpoint");
      out.checkpoint = checkpointFromProto(state.checkpoint);
      break;
    case "CONNECTED": {
      const id = state.identity;
      if (!id?.providerUserId) throw malformed("CONNECTED without a provider user id");
      out.identity = {
        providerUserId: bounded(id.providerUserId, "provider_user_id")!,
        ...(id.displayName ? { displayName: bounded(id.displayName, "display_name")! } : {}),
        ...(id.handle ? { handle: bounded(id.handle, "handle")! } : {}),
        ...(id.email ? { email: bounded(id.email, "email")! } : {}),
      };
      const details = Object.entries(state.details).filter(([k, v]) => k.length <= 64 && v.length <= 1024);
      if (details.length > 0) out.details = Object.fromEntries(details.slice(0, 32));
      if (state.session?.data) {
        if (state.session.data.length > MAX_SESSION_CHARS || state.session.format.length > 64) throw malformed("session too large");
        out.session = { format: state.session.format, data: state.session.data };
      }
      break;
    }
    case "FAILED":
      // A type we do not know is still a failure: the provider's side had a problem.
      out.errorKind = kindOfType(state.errorType) ?? "provider_error";
      if (Object.keys(state.errorMetadata).length > 0) out.errorMetadata = safeMetadata(state.errorMetadata);
      break;
    case "EXPIRED":
      out.errorKind = "intent_expired";
      break;
  }
  return out;
}

export function eventFromProto(event: StreamEventsResponse): AuthEvent {
  const kind = eventKinds[event.kind];
  if (!kind) throw malformed("event of unknown kind");
  return { kind, state: stateFromProto(event.state) };
}
