import type { IncomingMessage } from "node:http";
import type { Http2ServerRequest } from "node:http2";

/**
 * A Node request's headers as the call pipeline reads them: by lower-case name, a header
 * sent more than once as its values joined with ", " (RFC 9110 §5.3; see apiKeyFromHeaders).
 */
export function headerReader(req: IncomingMessage | Http2ServerRequest): (name: string) => string | undefined {
  return (name) => {
    const value = req.headers[name];
    return Array.isArray(value) ? value.join(", ") : value;
  };
}
