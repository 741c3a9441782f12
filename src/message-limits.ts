/** Largest message this service sends or accepts, on its own ports and from provider gateways (over it: RESOURCE_EXHAUSTED). */
export const MAX_MESSAGE_BYTES = 4 * 1024 * 1024;
