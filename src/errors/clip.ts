/**
 * Limits on what an error may echo of a request. A caller controls field paths (map keys
 * are part of them) and values; echoing them whole let a 1 MiB header name come back in a
 * 3.5 MB answer, and over gRPC overflow the trailers. Together these keep any error's
 * message and details within a few KiB.
 */
export const ECHO_LIMITS = {
  /** Characters of a field path ("messengerSession.headers[\"...\"]"). */
  field: 64,
  /** Characters of one violation's description. */
  description: 128,
  /** Characters of one ErrorInfo metadata value. */
  metadataValue: 256,
  /** Characters of an error's message. */
  message: 512,
  /** Field violations listed; the message says how many more there were. */
  violations: 16,
} as const;

/** The first `max` characters of `text`, with "…" when some were cut (never half a surrogate pair). */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = /[\uD800-\uDBFF]/.test(text.charAt(max - 1)) ? max - 1 : max;
  return `${text.slice(0, cut)}…`;
}
