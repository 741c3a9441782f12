import { lookup as dnsLookup } from "node:dns/promises";
import { isIP, type LookupFunction } from "node:net";
import { AppError } from "../errors/app-error.ts";
import { createAddressPolicy, type Network } from "./address-policy.ts";

/**
 * The one gate every connection to a user- or operator-named host passes (mail servers,
 * provider APIs, proxies, gateways of drivers): the name is resolved once, every address
 * it resolves to is checked against the address policy, and the caller dials the checked
 * address itself, keeping the name for TLS (SNI and certificate verification). A name that
 * answers differently on a second lookup (DNS rebinding) is never looked up a second time.
 */

/** Where to connect once a host passed the guard. */
export interface DialTarget {
  /** The checked IP address: dial this, never the name. */
  address: string;
  family: 4 | 6;
  /** The name to verify the certificate against and send as SNI; undefined for an IP literal. */
  servername: string | undefined;
}

export interface TargetGuard {
  /**
   * Resolves `host` (a name, an IP literal, or a bracketed IPv6 literal) and answers the
   * address to dial. Throws errors/target_not_allowed naming `field` when any address it
   * resolves to is refused: the same error whatever the address and whether anything
   * listens there, so a refusal tells nothing about the inside network. DNS failures are
   * thrown as dns.lookup reports them (ENOTFOUND, ...).
   */
  resolve(host: string, field: string): Promise<DialTarget>;
  /**
   * The same check as a dns.lookup replacement, for net.connect, tls.connect and http(s)
   * agents. Node never calls `lookup` for an IP literal, so whoever passes a host they did
   * not resolve must also call resolve() (or dial what it answers) for literals.
   */
  lookup(field: string): LookupFunction;
}

export interface TargetGuardOptions {
  /** Networks the operator allows despite the policy (PROVIDER_ALLOWED_NETWORKS), e.g. loopback for tests. */
  allowed?: readonly Network[];
}

export function createTargetGuard(options: TargetGuardOptions = {}): TargetGuard {
  const policy = createAddressPolicy(options.allowed);
  const resolve = async (host: string, field: string): Promise<DialTarget> => {
    const name = host.replace(/^\[(.*)\]$/, "$1");
    const literal = isIP(name.replace(/%.*$/, ""));
    const addresses = literal !== 0 ? [{ address: name, family: literal }] : await dnsLookup(name, { all: true, order: "verbatim" });
    const [first] = addresses;
    if (first === undefined || addresses.some((a) => !policy.permits(a.address))) throw targetNotAllowed(field);
    return { address: first.address, family: first.family === 6 ? 6 : 4, servername: literal !== 0 ? undefined : name };
  };
  return {
    resolve,
    lookup(field) {
      return (hostname, options, callback) => {
        resolve(hostname, field).then(
          (target) => (options.all ? callback(null, [{ address: target.address, family: target.family }]) : callback(null, target.address, target.family)),
          (error: Error) => callback(error, ""),
        );
      };
    },
  };
}

/** One error for every refused target: nothing in it depends on the address or on what listens there. */
function targetNotAllowed(field: string): AppError {
  return new AppError("target_not_allowed", {
    detail: `${field} names a host this service does not connect to.`,
    metadata: { field },
    violations: [{ field, description: "resolves to an address this service does not connect to (loopback, private, link-local, shared, multicast, reserved, or this host's own)" }],
  });
}
