import { MAX_MESSAGE_BYTES } from "../message-limits.ts";

/** Largest request or response message either transport accepts: one constant with the gateway client's. */
export { MAX_MESSAGE_BYTES };

/**
 * Hard cap the protocol libraries enforce themselves. Between MAX_MESSAGE_BYTES and this,
 * we answer errors/message_too_large with full details; past it the library's own
 * RESOURCE_EXHAUSTED (no details) guards memory.
 */
export const HARD_MESSAGE_CAP_BYTES = 2 * MAX_MESSAGE_BYTES;
