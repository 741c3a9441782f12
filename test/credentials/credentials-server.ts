import type { AnyConnector } from "../../src/domain/connectors/registry.ts";
import type { Store } from "../../src/store/store.ts";
import { LOOPBACK_NETWORKS } from "../support/loopback-guard.ts";
import { startFakeMicrosoft, type FakeMicrosoft } from "../support/oauth/fake-microsoft.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import { credentialsKey } from "./support.ts";

export interface CredentialsServer {
  microsoft: FakeMicrosoft;
  server: TestServer;
  /** A key of workspace "alpha" with the scope credentials:read. */
  key: string;
  workspaceId: string;
}

/**
 * What the credentials suites run against: a fake Microsoft (token endpoint and Graph), and a
 * server with CredentialService on every port, allowed to reach loopback providers, with no
 * health checks of its own, plus a credentials:read key.
 */
export async function startCredentialsServer(
  backend: Store["kind"],
  options: { metrics?: boolean; connectors?: (microsoftEnv: Record<string, string>) => AnyConnector[] } = {},
): Promise<CredentialsServer> {
  const microsoft = await startFakeMicrosoft();
  const server = await startTestServer({
    backend,
    ...(options.metrics ? { metrics: true } : {}),
    ...(options.connectors ? { connectors: options.connectors(microsoft.env) } : {}),
    env: { CREDENTIALS_SERVICE: "all", PROVIDER_ALLOWED_NETWORKS: LOOPBACK_NETWORKS, ACCOUNT_CHECK_POLL_MS: "0", ...microsoft.env },
  });
  const key = await credentialsKey(server.store);
  const workspaceId = (await server.store.findWorkspaceByName("alpha"))!.id;
  return { microsoft, server, key, workspaceId };
}

export async function closeCredentialsServer(started: Partial<CredentialsServer>): Promise<void> {
  await started.server?.close();
  await started.microsoft?.close();
}
