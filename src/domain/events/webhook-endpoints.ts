import { sealingAad, type Sealer } from "../../crypto/sealer.ts";
import { AppError } from "../../errors/app-error.ts";
import { newId } from "../../ids.ts";
import type { DeliveryRecord, EventType, Store, WebhookEndpointRecord } from "../../store/store.ts";
import { newSigningSecret } from "./signature.ts";
import type { CheckUrl } from "./webhook-target.ts";

export const MAX_ENDPOINTS = 16;

/** An endpoint with its signing secret in clear: answered once, on create and on rotate. */
export interface EndpointWithSecret {
  endpoint: WebhookEndpointRecord;
  signingSecret: string;
}

/** The workspace's webhook endpoints: register, list, remove, rotate the secret, list deliveries. */
export class WebhookEndpoints {
  private readonly deps: { store: Store; sealer: Sealer; checkUrl: CheckUrl; now: () => Date };

  constructor(deps: { store: Store; sealer: Sealer; checkUrl: CheckUrl; now?: () => Date }) {
    this.deps = { now: () => new Date(), ...deps };
  }

  async create(workspaceId: string, url: string, eventTypes: EventType[]): Promise<EndpointWithSecret> {
    const { store, sealer, checkUrl, now } = this.deps;
    if (!URL.canParse(url)) throw new AppError("invalid_parameters", { violations: [{ field: "url", description: "not a valid URL" }] });
    await checkUrl(new URL(url));
    if ((await store.listWebhookEndpoints(workspaceId)).length >= MAX_ENDPOINTS) {
      throw new AppError("limit_too_high", { detail: `A workspace has at most ${MAX_ENDPOINTS} webhook endpoints.` });
    }
    const id = newId("whe_");
    const signingSecret = newSigningSecret();
    const at = now();
    const endpoint: WebhookEndpointRecord = {
      id,
      workspaceId,
      url,
      eventTypes: [...new Set(eventTypes)],
      status: "ENABLED",
      disabledReason: null,
      secret: sealer.seal(Buffer.from(signingSecret), sealingAad(workspaceId, id)),
      createdAt: at,
      updatedAt: at,
    };
    await store.createWebhookEndpoint(endpoint);
    return { endpoint, signingSecret };
  }

  list(workspaceId: string): Promise<WebhookEndpointRecord[]> {
    return this.deps.store.listWebhookEndpoints(workspaceId);
  }

  async delete(workspaceId: string, endpointId: string): Promise<void> {
    if (!(await this.deps.store.deleteWebhookEndpoint(workspaceId, endpointId))) throw notFound(endpointId);
  }

  async rotate(workspaceId: string, endpointId: string): Promise<EndpointWithSecret> {
    const signingSecret = newSigningSecret();
    const sealed = this.deps.sealer.seal(Buffer.from(signingSecret), sealingAad(workspaceId, endpointId));
    const endpoint = await this.deps.store.rotateWebhookSecret(workspaceId, endpointId, sealed, this.deps.now());
    if (!endpoint) throw notFound(endpointId);
    return { endpoint, signingSecret };
  }

  async deliveries(workspaceId: string, endpointId: string, limit: number): Promise<DeliveryRecord[]> {
    const endpoints = await this.deps.store.listWebhookEndpoints(workspaceId);
    if (!endpoints.some((e) => e.id === endpointId)) throw notFound(endpointId);
    return this.deps.store.listDeliveries(workspaceId, endpointId, limit);
  }
}

/** The signing secret of a stored endpoint, for the deliverer. */
export function openSigningSecret(sealer: Sealer, endpoint: WebhookEndpointRecord): string {
  return sealer.open(endpoint.secret, sealingAad(endpoint.workspaceId, endpoint.id)).toString("utf8");
}

function notFound(endpointId: string): AppError {
  return new AppError("not_found", { metadata: { endpointId } });
}
