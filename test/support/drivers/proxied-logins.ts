import { expect, it } from "vitest";
import type { Proxy } from "../../../gen/postpress/accounts/v1/options_pb.js";
import { PROXY_PROTOCOLS, accountProxy } from "../proxy/account-proxy.ts";
import { expectNoSecrets, settled } from "./drive.ts";
import type { HostedDriven } from "./web-hosts.ts";

/** A provider's two variants (cookie and password) as one row: logins of one fresh member through `proxy`. */
export interface ProxiedLogins {
  provider: string;
  /** The fake provider's origin: the only place the proxy may tunnel to. */
  origin(): string;
  start(proxy: Proxy): { logins: HostedDriven[]; providerUserId: string };
  /** Planted in the requests besides the proxy password. */
  secrets: string[];
}

/** Both variants connect through an HTTP and a SOCKS5 proxy asking for credentials; every tunnel goes to the provider; the proxy password leaks nowhere. */
export function throughEachProxy(row: ProxiedLogins, proxyPassword: string): void {
  it.each(PROXY_PROTOCOLS)(`both variants through an %s proxy with credentials: tunnels to ${row.provider} only, the proxy password nowhere`, async (_name, protocol) => {
    const { server, proxy } = await accountProxy(protocol, proxyPassword);
    try {
      const { logins, providerUserId } = row.start(proxy);
      for (const d of logins) expect(await settled(d)).toMatchObject({ status: "CONNECTED", identity: { providerUserId } });
      expect(server.tunnels.length).toBeGreaterThanOrEqual(logins.length);
      expect(new Set(server.tunnels)).toEqual(new Set([new URL(row.origin()).host]));
      for (const d of logins) expectNoSecrets(d, [...row.secrets, proxyPassword]);
    } finally {
      await server.close();
    }
  });
}
