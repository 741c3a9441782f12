import { MAX_MESSAGE_BYTES } from "../message-limits.ts";

/** Largest request or response message either transport accepts: one constant with the gateway client's. */
export { MAX_MESSAGE_BYTES };

/**
 * Hard cap on what is read at all. Between MAX_MESSAGE_BYTES and this, we answer
 * errors/message_too_large with full details after reading; a body declared or sent past it is
 * refused with the same error without reading further (grpc-js enforces it on the gRPC port).
 */
export const HARD_MESSAGE_CAP_BYTES = 2 * MAX_MESSAGE_BYTES;

/**
 * Deepest nesting of arrays and objects a JSON request may have. Our messages nest about six
 * levels; the limit refuses, before parsing, bodies built to make the parser work.
 */
export const MAX_JSON_DEPTH = 32;
