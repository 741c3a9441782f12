import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** What a local OTLP/HTTP receiver got: one request per export. */
export interface Received {
  contentType: string;
  body: Buffer;
}

export interface OtlpReceiver {
  /** Its /v1/traces endpoint. */
  url: string;
  received: Received[];
  close(): Promise<void>;
}

/** An OTLP/HTTP receiver: a plain HTTP server on port 0 that keeps every export and answers success. */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (req.url === "/v1/traces") received.push({ contentType: req.headers["content-type"] ?? "", body: Buffer.concat(chunks) });
      const json = req.headers["content-type"] === "application/json";
      res.writeHead(200, { "content-type": json ? "application/json" : "application/x-protobuf" }).end(json ? "{}" : "");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`,
    received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

export interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: Attributes;
}

type Attributes = { key: string; value: Record<string, unknown> }[];
type JsonExport = { resourceSpans: { resource: { attributes: Attributes }; scopeSpans: { spans: OtlpSpan[] }[] }[] };

/** The spans of OTLP/HTTP JSON exports. */
export function spansOf(received: Received[]): OtlpSpan[] {
  return received.flatMap((r) => (JSON.parse(r.body.toString("utf8")) as JsonExport).resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans)));
}

/** The service.name of each resource in OTLP/HTTP JSON exports. */
export function serviceNamesOf(received: Received[]): unknown[] {
  return received.flatMap((r) => (JSON.parse(r.body.toString("utf8")) as JsonExport).resourceSpans.map((rs) => valueOf(rs.resource.attributes, "service.name")));
}

export function attribute(span: OtlpSpan, key: string): unknown {
  return valueOf(span.attributes, key);
}

function valueOf(attributes: Attributes, key: string): unknown {
  const value = attributes.find((a) => a.key === key)?.value;
  return value && Object.values(value)[0];
}
