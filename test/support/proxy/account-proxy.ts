import { create } from "@bufbuild/protobuf";
import { ProxyProtocol, ProxySchema, type Proxy } from "../../../gen/postpress/accounts/v1/options_pb.js";
import { startConnectProxy, type TestProxy } from "./connect-proxy.ts";
import { startSocks5Proxy } from "./socks5-proxy.ts";

/** The two kinds of account proxy every proxied driver is shown through: HTTP CONNECT and SOCKS5. */
export const PROXY_PROTOCOLS = [
  ["HTTP", ProxyProtocol.HTTP],
  ["SOCKS5", ProxyProtocol.SOCKS5],
] as const;

/** A local proxy of `protocol` that asks for credentials, and the variant's `proxy` field naming it with them. */
export async function accountProxy(protocol: ProxyProtocol.HTTP | ProxyProtocol.SOCKS5, password: string): Promise<{ server: TestProxy; proxy: Proxy }> {
  const credentials = { username: "proxy-user", password };
  const server = protocol === ProxyProtocol.SOCKS5 ? await startSocks5Proxy({ credentials }) : await startConnectProxy({ credentials });
  return { server, proxy: create(ProxySchema, { protocol, host: server.host, port: server.port, ...credentials }) };
}
