import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import { AccountStatus, AuthMethod, Provider, type AccountOptions } from "../../gen/postpress/accounts/v1/account_pb.js";
import { DisabledFeatureSchema, MailSyncLimitSchema, ProxyProtocolSchema, type SyncBound } from "../../gen/postpress/accounts/v1/options_pb.js";
import type { ConnectOutcome } from "../domain/accounts/outcomes.ts";
import type { CheckpointInfo } from "../domain/connectors/interactive.ts";
import { OBJECT_ACCOUNT_CREATED, OBJECT_CHECKPOINT } from "../rpc/checkpoints.ts";
import { accountToProto } from "../rpc/converters.ts";
import { OBJECT_ACCOUNT_RECONNECTED } from "../rpc/reconnect.ts";
import type { AccountSummary } from "../store/store.ts";
import { CHECKPOINT_TYPE_STRINGS, toContractString } from "./vocabulary.ts";

/**
 * What the REST surface answers, in the original API's snake_case and vocabulary. Built from
 * the domain's outcome types, so a change of the proto responses does not reach it.
 */

export interface RestAnswer {
  status: number;
  body: JsonObject;
}

/** ConnectAccount, solve, resend: 201 AccountCreated, or 202 with the checkpoint now waiting. */
export function outcomeAnswer(outcome: ConnectOutcome): RestAnswer {
  if (outcome.kind === "created") return { status: 201, body: { object: OBJECT_ACCOUNT_CREATED, account_id: outcome.account.id } };
  return { status: 202, body: { object: OBJECT_CHECKPOINT, account_id: outcome.accountId, checkpoint: checkpointJson(outcome.checkpoint) } };
}

/** Reconnect: 200 AccountReconnected (the account existed), or 202 with the checkpoint now waiting. */
export function reconnectAnswer(outcome: ConnectOutcome): RestAnswer {
  if (outcome.kind === "created") return { status: 200, body: { object: OBJECT_ACCOUNT_RECONNECTED, account_id: outcome.account.id } };
  return outcomeAnswer(outcome);
}

function checkpointJson(checkpoint: CheckpointInfo): JsonObject {
  return compact({
    type: CHECKPOINT_TYPE_STRINGS[checkpoint.type],
    qr_code: checkpoint.qrCode,
    pairing_code: checkpoint.pairingCode,
    captcha_data: checkpoint.captchaData,
    code_sent_to: checkpoint.codeSentTo,
    expires_at: checkpoint.expiresAt,
  });
}

/** An account as GET, list and DELETE answer it; the record carries no secret, so neither does this. */
export function accountJson(record: AccountSummary): JsonObject {
  const account = accountToProto(record);
  return compact({
    object: "Account",
    id: account.id,
    provider: Provider[account.provider],
    auth_method: AuthMethod[account.authMethod],
    status: AccountStatus[account.status],
    identity: compact({
      provider_user_id: account.identity?.providerUserId,
      display_name: account.identity?.displayName,
      handle: account.identity?.handle,
      email: account.identity?.email,
    }),
    options: account.options ? optionsJson(account.options) : undefined,
    created_at: iso(account.createTime),
    updated_at: iso(account.updateTime),
    access_token_expires_at: iso(account.accessTokenExpireTime),
  });
}

function optionsJson(options: AccountOptions): JsonObject {
  const history = options.historySyncLimit;
  const proxy = options.proxy;
  return compact({
    country: options.country,
    ip: options.ip,
    disabled_features: options.disabledFeatures.length > 0 ? options.disabledFeatures.map((f) => toContractString(DisabledFeatureSchema, f) ?? String(f)) : undefined,
    sync_limit: history ? compact({ chats: boundJson(history.chats), messages: boundJson(history.messages) }) : toContractString(MailSyncLimitSchema, options.mailSyncLimit),
    proxy: proxy
      ? compact({ protocol: toContractString(ProxyProtocolSchema, proxy.protocol), host: proxy.host, port: proxy.port, username: proxy.username, has_password: proxy.hasPassword })
      : undefined,
    user_agent: options.userAgent,
    recruiter_contract_id: options.recruiterContractId,
  });
}

function boundJson(bound: SyncBound | undefined): JsonValue | undefined {
  if (bound?.bound.case === "count") return bound.bound.value;
  if (bound?.bound.case === "since") return timestampDate(bound.bound.value).toISOString();
  return undefined;
}

function iso(timestamp: Timestamp | undefined): string | undefined {
  return timestamp ? timestampDate(timestamp).toISOString() : undefined;
}

/** Leaves out what is unset (undefined, "" and 0-valued enums turned undefined): the contract's optional fields are absent, not empty. */
function compact(fields: Record<string, JsonValue | undefined>): JsonObject {
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(fields)) if (v !== undefined && v !== "") out[k] = v;
  return out;
}
