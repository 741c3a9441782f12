import { parseNetworks } from "../../src/net/address-policy.ts";
import { createTargetGuard } from "../../src/net/target-guard.ts";

/** The allow-list the tests' loopback servers need, as an operator would write it in PROVIDER_ALLOWED_NETWORKS. */
export const LOOPBACK_NETWORKS = "127.0.0.0/8,::1/128";

/** A target guard that lets connectors reach the fake providers and mail servers on loopback. */
export const loopbackGuard = createTargetGuard({ allowed: parseNetworks(LOOPBACK_NETWORKS) });
