import { BlockList, isIP } from "node:net";
import { networkInterfaces } from "node:os";

/**
 * Which IP addresses a provider connection may be dialled to. Anything that reaches inside
 * the network (this host, its neighbours, the cloud's metadata service) is refused unless
 * the operator allowed it; the rest of the internet is permitted.
 */

/** One CIDR network of the operator's allow-list. */
export interface Network {
  address: string;
  prefix: number;
  family: "ipv4" | "ipv6";
}

/** IPv4 ranges that are not the public internet (IANA IPv4 Special-Purpose Address Registry). */
const forbiddenV4: Array<[string, number]> = [
  ["0.0.0.0", 8], // "this network", including the unspecified address
  ["10.0.0.0", 8], // RFC 1918
  ["100.64.0.0", 10], // carrier-grade NAT (RFC 6598)
  ["127.0.0.0", 8], // loopback
  ["169.254.0.0", 16], // link-local, and the cloud metadata service 169.254.169.254
  ["172.16.0.0", 12], // RFC 1918
  ["192.0.0.0", 24], // IETF protocol assignments
  ["192.0.2.0", 24], // documentation
  ["192.88.99.0", 24], // 6to4 relay anycast (deprecated)
  ["192.168.0.0", 16], // RFC 1918
  ["198.18.0.0", 15], // benchmarking
  ["198.51.100.0", 24], // documentation
  ["203.0.113.0", 24], // documentation
  ["224.0.0.0", 4], // multicast
  ["240.0.0.0", 4], // reserved, including the broadcast address 255.255.255.255
];

/** IPv6 ranges that are not the public internet (IANA IPv6 Special-Purpose Address Registry). */
const forbiddenV6: Array<[string, number]> = [
  ["::", 96], // unspecified, loopback and the deprecated IPv4-compatible addresses
  ["64:ff9b:1::", 48], // local-use NAT64
  ["100::", 64], // discard-only
  ["2001::", 23], // IETF protocol assignments, including Teredo
  ["2001:db8::", 32], // documentation
  ["3fff::", 20], // documentation
  ["5f00::", 16], // SRv6 segment identifiers
  ["fc00::", 7], // unique local (ULA)
  ["fe80::", 10], // link-local
  ["fec0::", 10], // site-local (deprecated)
  ["ff00::", 8], // multicast
];

const forbidden = new BlockList();
for (const [address, prefix] of forbiddenV4) forbidden.addSubnet(address, prefix, "ipv4");
for (const [address, prefix] of forbiddenV6) forbidden.addSubnet(address, prefix, "ipv6");

/**
 * Parses a comma- or space-separated list of CIDR networks ("127.0.0.0/8, ::1/128"); a bare
 * address is a network of one. Throws naming the first entry that is not one.
 */
export function parseNetworks(text: string): Network[] {
  const entries = text.split(/[\s,]+/).filter(Boolean);
  return entries.map((entry) => {
    const [address = "", prefixText, ...rest] = entry.split("/");
    const version = isIP(address);
    const max = version === 6 ? 128 : 32;
    const prefix = prefixText === undefined ? max : Number(prefixText);
    const validPrefix = prefixText === undefined || /^\d{1,3}$/.test(prefixText);
    if (version === 0 || rest.length > 0 || !validPrefix || prefix > max) {
      throw new Error(`${JSON.stringify(entry.slice(0, 64))} is not a CIDR network`);
    }
    return { address, prefix, family: version === 6 ? "ipv6" : "ipv4" };
  });
}

export interface AddressPolicy {
  /** Whether a connection to this resolved address may be made. */
  permits(address: string): boolean;
}

/** Refuses internal addresses and the host's own, except those in `allowed`. */
export function createAddressPolicy(allowed: readonly Network[] = []): AddressPolicy {
  const allowList = new BlockList();
  for (const network of allowed) allowList.addSubnet(network.address, network.prefix, network.family);
  return {
    permits(address) {
      const forms = addressForms(address);
      if (forms.length === 0) return false;
      if (forms.some((form) => allowList.check(form.address, form.family))) return true;
      const own = ownAddresses();
      return !forms.some((form) => forbidden.check(form.address, form.family) || own.check(form.address, form.family));
    },
  };
}

/**
 * The forms under which an address reaches a host: itself and, for an IPv6 address that
 * carries an IPv4 one (IPv4-mapped ::ffff:0:0/96, NAT64 64:ff9b::/96, 6to4 2002::/16), that
 * IPv4 address too. Empty when it is not an IP address.
 */
function addressForms(text: string): Array<{ address: string; family: "ipv4" | "ipv6" }> {
  // A zone ("fe80::1%eth0") only says which interface: the address decides.
  const address = text.replace(/%.*$/, "");
  const version = isIP(address);
  if (version === 4) return [{ address, family: "ipv4" }];
  if (version !== 6) return [];
  const forms: Array<{ address: string; family: "ipv4" | "ipv6" }> = [{ address, family: "ipv6" }];
  const embedded = embeddedIpv4(ipv6Bytes(address));
  if (embedded) forms.push({ address: embedded, family: "ipv4" });
  return forms;
}

function embeddedIpv4(bytes: number[]): string | undefined {
  const zeros = (from: number, to: number) => bytes.slice(from, to).every((b) => b === 0);
  const quad = (at: number) => bytes.slice(at, at + 4).join(".");
  if (zeros(0, 10) && bytes[10] === 0xff && bytes[11] === 0xff) return quad(12); // ::ffff:a.b.c.d
  if (bytes[0] === 0x00 && bytes[1] === 0x64 && bytes[2] === 0xff && bytes[3] === 0x9b && zeros(4, 12)) return quad(12); // 64:ff9b::a.b.c.d
  if (bytes[0] === 0x20 && bytes[1] === 0x02) return quad(2); // 2002:aabb:ccdd::
  return undefined;
}

/** The 16 bytes of a valid IPv6 address (isIP already said it is one), dotted-quad tail included. */
export function ipv6Bytes(address: string): number[] {
  let text = address;
  const tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (tail) {
    const [a = 0, b = 0, c = 0, d = 0] = tail[1]!.split(".").map(Number);
    text = `${text.slice(0, tail.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = "", rest] = text.split("::");
  const groups = (part: string) => (part ? part.split(":") : []);
  const left = groups(head);
  const right = rest === undefined ? [] : groups(rest);
  const all = [...left, ...Array<string>(8 - left.length - right.length).fill("0"), ...right];
  return all.flatMap((group) => {
    const value = parseInt(group, 16);
    return [value >> 8, value & 0xff];
  });
}

/** This host's own interface addresses, read on every check: interfaces come and go. */
function ownAddresses(): BlockList {
  const own = new BlockList();
  for (const entries of Object.values(networkInterfaces())) {
    for (const entry of entries ?? []) own.addAddress(entry.address, entry.family === "IPv6" ? "ipv6" : "ipv4");
  }
  return own;
}
