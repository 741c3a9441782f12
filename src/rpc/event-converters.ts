import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { AccountStatus } from "../../gen/postpress/accounts/v1/account_pb.js";
import {
  EventSchema,
  EventType,
  WebhookDeliverySchema,
  WebhookDeliveryStatus,
  WebhookEndpointSchema,
  WebhookEndpointStatus,
  type Event,
  type WebhookDelivery,
  type WebhookEndpoint,
} from "../../gen/postpress/accounts/v1/event_service_pb.js";
import { encodeCursor } from "../domain/events/event-stream.ts";
import type { DeliveryRecord, EventRecord, EventType as StoredEventType, WebhookEndpointRecord } from "../store/store.ts";

const eventTypes: Record<StoredEventType, EventType> = {
  "account.connected": EventType.ACCOUNT_CONNECTED,
  "account.reconnected": EventType.ACCOUNT_RECONNECTED,
  "account.status_changed": EventType.ACCOUNT_STATUS_CHANGED,
  "account.deleted": EventType.ACCOUNT_DELETED,
};

export function eventTypeFromProto(type: EventType): StoredEventType {
  const found = (Object.keys(eventTypes) as StoredEventType[]).find((name) => eventTypes[name] === type);
  if (!found) throw new TypeError(`unknown event type ${type}`); // the request's validation refuses these first
  return found;
}

export function eventToProto(event: EventRecord): Event {
  return create(EventSchema, {
    id: event.id,
    type: eventTypes[event.type],
    accountId: event.accountId,
    eventTime: timestampFromDate(event.createdAt),
    fromStatus: event.change ? AccountStatus[event.change.from] : AccountStatus.UNSPECIFIED,
    toStatus: event.change ? AccountStatus[event.change.to] : AccountStatus.UNSPECIFIED,
    reason: event.change?.reason ?? "",
    cursor: encodeCursor(event.seq),
  });
}

/** Never carries the secret: the record holds it sealed, and nothing here reads it. */
export function endpointToProto(endpoint: WebhookEndpointRecord): WebhookEndpoint {
  return create(WebhookEndpointSchema, {
    id: endpoint.id,
    url: endpoint.url,
    eventTypes: endpoint.eventTypes.map((type) => eventTypes[type]),
    status: WebhookEndpointStatus[endpoint.status],
    disabledReason: endpoint.disabledReason ?? "",
    createTime: timestampFromDate(endpoint.createdAt),
    updateTime: timestampFromDate(endpoint.updatedAt),
  });
}

export function deliveryToProto(delivery: DeliveryRecord): WebhookDelivery {
  return create(WebhookDeliverySchema, {
    id: delivery.id,
    eventId: delivery.eventId,
    eventType: eventTypes[delivery.eventType],
    status: WebhookDeliveryStatus[delivery.status],
    attempts: delivery.attempts,
    lastStatusCode: delivery.lastStatusCode ?? 0,
    lastError: delivery.lastError ?? "",
    lastAttemptTime: delivery.lastAttemptAt ? timestampFromDate(delivery.lastAttemptAt) : undefined,
    nextAttemptTime: delivery.status === "PENDING" ? timestampFromDate(delivery.nextAttemptAt) : undefined,
    deliverTime: delivery.deliveredAt ? timestampFromDate(delivery.deliveredAt) : undefined,
  });
}
