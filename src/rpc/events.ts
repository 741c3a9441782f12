import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import {
  CreateWebhookEndpointRequestSchema,
  DeleteWebhookEndpointRequestSchema,
  EventService,
  ListWebhookDeliveriesRequestSchema,
  RotateWebhookSecretRequestSchema,
  StreamEventsRequestSchema,
  type StreamEventsRequest,
  type StreamEventsResponse,
} from "../../gen/postpress/accounts/v1/event_service_pb.js";
import { decodeCursor, type EventStream } from "../domain/events/event-stream.ts";
import type { WebhookEndpoints } from "../domain/events/webhook-endpoints.ts";
import { callOf } from "./call.ts";
import { deliveryToProto, endpointToProto, eventToProto, eventTypeFromProto } from "./event-converters.ts";
import { validateRequest } from "./validation.ts";

const DEFAULT_DELIVERIES = 50;

/** EventService: proto ↔ domain, nothing more. */
export function createEventServiceImpl(stream: EventStream, endpoints: WebhookEndpoints): ServiceImpl<typeof EventService> {
  return {
    async *streamEvents(req: StreamEventsRequest, ctx: HandlerContext): AsyncGenerator<Partial<StreamEventsResponse>> {
      await validateRequest(StreamEventsRequestSchema, req);
      for await (const event of stream.follow(callOf(ctx).caller.workspaceId, decodeCursor(req.cursor), ctx.signal)) {
        yield { event: eventToProto(event) };
      }
    },
    async createWebhookEndpoint(req, ctx) {
      await validateRequest(CreateWebhookEndpointRequestSchema, req);
      const created = await endpoints.create(callOf(ctx).caller.workspaceId, req.url, req.eventTypes.map(eventTypeFromProto));
      return { endpoint: endpointToProto(created.endpoint), signingSecret: created.signingSecret };
    },
    async listWebhookEndpoints(_req, ctx) {
      return { endpoints: (await endpoints.list(callOf(ctx).caller.workspaceId)).map(endpointToProto) };
    },
    async deleteWebhookEndpoint(req, ctx) {
      await validateRequest(DeleteWebhookEndpointRequestSchema, req);
      await endpoints.delete(callOf(ctx).caller.workspaceId, req.endpointId);
      return {};
    },
    async rotateWebhookSecret(req, ctx) {
      await validateRequest(RotateWebhookSecretRequestSchema, req);
      const rotated = await endpoints.rotate(callOf(ctx).caller.workspaceId, req.endpointId);
      return { endpoint: endpointToProto(rotated.endpoint), signingSecret: rotated.signingSecret };
    },
    async listWebhookDeliveries(req, ctx) {
      await validateRequest(ListWebhookDeliveriesRequestSchema, req);
      const deliveries = await endpoints.deliveries(callOf(ctx).caller.workspaceId, req.endpointId, req.pageSize || DEFAULT_DELIVERIES);
      return { deliveries: deliveries.map(deliveryToProto) };
    },
  };
}
