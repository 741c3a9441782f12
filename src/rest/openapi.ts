import { readFileSync } from "node:fs";

/** The OpenAPI 3.1 document of the REST surface, kept in the repository and served as it is. */
export const OPENAPI_PATH = "/api/v1/openapi.json";

let document: Buffer | undefined;

/** Read on the first request for it, then kept: most processes never serve it. */
export function openApiDocument(): Buffer {
  return (document ??= readFileSync(new URL("../../docs/openapi.json", import.meta.url)));
}
