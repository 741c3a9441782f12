import { AppError } from "../../../../errors/app-error.ts";
import { catalogue, type ErrorKind } from "../../../../errors/catalogue.ts";
import type { VariantCase } from "../../../connectors/connector.ts";
import type { CheckpointInfo, CheckpointKind } from "../../../connectors/interactive.ts";
import { variantInfo } from "../../variants.ts";
import type { FlowState } from "./intent.ts";

/**
 * The schema of intents.state. Every read from the store goes through parseFlowState, so the
 * engine never works on a shape it did not write: a row that does not fit is an
 * unexpected_error naming the field, not a cast. `null` (one-shot rows of older builds) reads
 * as a one-shot flow; rows written before this schema (no "v") are the same shape.
 */
const FLOW_STATE_VERSION = 1;

const CHECKPOINT_KINDS: ReadonlySet<CheckpointKind> = new Set(["TWO_FACTOR", "OTP", "IN_APP_VALIDATION", "CAPTCHA", "PHONE_REGISTER", "QR_CODE", "PAIRING_CODE"]);
const CHECKPOINT_TEXT_FIELDS = ["qrCode", "pairingCode", "captchaData", "codeSentTo", "expiresAt"] as const;

export function parseFlowState(json: Record<string, unknown> | null): FlowState {
  if (json === null) return { flow: "one_shot" };
  if (json.v !== undefined && json.v !== FLOW_STATE_VERSION) throw invalid("v", `version ${String(json.v)} is not known`);
  const duplicateOf = optionalText(json, "duplicateOf");
  if (json.reconnect !== undefined && json.reconnect !== true) throw invalid("reconnect", "must be true when set");
  const extra = { ...(duplicateOf === undefined ? {} : { duplicateOf }), ...(json.reconnect === true ? { reconnect: true as const } : {}) };
  switch (json.flow) {
    case "one_shot":
      return { flow: "one_shot", ...extra };
    case "interactive": {
      const variant = text(json, "variant");
      if (!(variant in variantInfo)) throw invalid("variant", `${variant} is not a variant`);
      return {
        flow: "interactive",
        variant: variant as VariantCase,
        key: text(json, "key"),
        version: count(json, "version"),
        seq: count(json, "seq"),
        checkpoint: json.checkpoint === null || json.checkpoint === undefined ? null : parseCheckpoint(json.checkpoint),
        ...extra,
        ...optionalField(json, "replica"),
      };
    }
    default:
      throw invalid("flow", "must be one_shot or interactive");
  }
}

/** The JSON stored for a flow state: versioned, checkpoint fields only when set. */
export function flowStateToJson(flow: FlowState): Record<string, unknown> {
  return { v: FLOW_STATE_VERSION, ...flow };
}

/** A stored errorKind outside the catalogue (an older build's) reads as a provider error. */
export function parseErrorKind(kind: string | null): ErrorKind | null {
  if (kind === null) return null;
  return kind in catalogue ? (kind as ErrorKind) : "provider_error";
}

function parseCheckpoint(value: unknown): CheckpointInfo {
  if (typeof value !== "object" || value === null) throw invalid("checkpoint", "must be an object");
  const record = value as Record<string, unknown>;
  const type = text(record, "type");
  if (!CHECKPOINT_KINDS.has(type as CheckpointKind)) throw invalid("checkpoint.type", `${type} is not a checkpoint type`);
  const checkpoint: CheckpointInfo = { type: type as CheckpointKind };
  for (const field of CHECKPOINT_TEXT_FIELDS) {
    const v = optionalText(record, field);
    if (v !== undefined) checkpoint[field] = v;
  }
  return checkpoint;
}

function text(record: Record<string, unknown>, field: string): string {
  const value = record[field];
  if (typeof value !== "string" || value === "") throw invalid(field, "must be a non-empty string");
  return value;
}

function optionalText(record: Record<string, unknown>, field: string): string | undefined {
  const value = record[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") throw invalid(field, "must be a string");
  return value;
}

function count(record: Record<string, unknown>, field: string): number {
  const value = record[field] ?? 0;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0) throw invalid(field, "must be a non-negative integer");
  return value;
}

function invalid(field: string, problem: string): AppError {
  return new AppError("unexpected_error", { detail: `Stored intent state: ${field} ${problem}.` });
}

function optionalField(record: Record<string, unknown>, field: string): Record<string, string> {
  const value = optionalText(record, field);
  return value === undefined ? {} : { [field]: value };
}
