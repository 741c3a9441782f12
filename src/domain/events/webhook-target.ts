import { lookup } from "node:dns/promises";
import { BlockList, isIP } from "node:net";
import { AppError } from "../../errors/app-error.ts";

/**
 * Whether the service may POST to a webhook URL: resolves when it may, throws an AppError
 * (invalid_parameters naming field "url") when not. Checked when an endpoint is created and
 * again before every delivery, since a name can resolve elsewhere later.
 */
export type CheckUrl = (url: URL) => Promise<void>;

/** Loopback, private, link-local, carrier-grade NAT, unspecified, unique-local. */
const internal = new BlockList();
for (const [network, prefix] of [["0.0.0.0", 8], ["10.0.0.0", 8], ["100.64.0.0", 10], ["127.0.0.0", 8], ["169.254.0.0", 16], ["172.16.0.0", 12], ["192.168.0.0", 16]] as const) {
  internal.addSubnet(network, prefix, "ipv4");
}
for (const [network, prefix] of [["::", 128], ["::1", 128], ["fc00::", 7], ["fe80::", 10]] as const) internal.addSubnet(network, prefix, "ipv6");

function isInternal(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return internal.check(mapped[1]!, "ipv4");
  return internal.check(address, isIP(address) === 6 ? "ipv6" : "ipv4");
}

/**
 * The default rule: https only, to public addresses only. `allowPrivate` (development and
 * tests) lets http:// and internal addresses through. The service-wide target guard of the
 * hardening work replaces this function where the server builds its webhook parts.
 */
export function basicCheckUrl(options: { allowPrivate: boolean }): CheckUrl {
  return async (url) => {
    if (url.protocol !== "https:" && !(options.allowPrivate && url.protocol === "http:")) throw refused("must be an https URL");
    if (url.username || url.password) throw refused("must not carry credentials");
    if (options.allowPrivate) return;
    const host = url.hostname.replace(/^\[|\]$/g, "");
    const addresses = isIP(host) ? [host] : await lookup(host, { all: true }).then((all) => all.map((a) => a.address), () => []);
    if (addresses.length === 0) throw refused("its host name does not resolve");
    if (addresses.some(isInternal)) throw refused("must not point at a loopback, private or link-local address");
  };
}

function refused(description: string): AppError {
  return new AppError("invalid_parameters", { violations: [{ field: "url", description }] });
}
