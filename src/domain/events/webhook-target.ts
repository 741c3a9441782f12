import { BlockList } from "node:net";
import { AppError, isAppError } from "../../errors/app-error.ts";
import type { Network } from "../../net/address-policy.ts";
import type { TargetGuard } from "../../net/target-guard.ts";

/**
 * Whether the service may POST to a webhook URL: resolves when it may, throws an AppError
 * naming field "url" when not (invalid_parameters for the URL's form, target_not_allowed for
 * where it points). Checked when an endpoint is created and again before every delivery,
 * since a name can resolve elsewhere later; the delivery itself dials only what the target
 * guard checked (guardedFetch), so a name answering differently on the dial is refused too.
 */
export type CheckUrl = (url: URL) => Promise<void>;

/**
 * The rule: https only, to addresses the target guard permits (the public internet, plus
 * PROVIDER_ALLOWED_NETWORKS). http:// is accepted only to an address inside that allow-list
 * (a receiver on the operator's own network, tests on loopback), never across the internet.
 */
export function webhookUrlRule(guard: TargetGuard, allowed: readonly Network[] = []): CheckUrl {
  const allowList = new BlockList();
  for (const network of allowed) allowList.addSubnet(network.address, network.prefix, network.family);
  return async (url) => {
    if (url.protocol !== "https:" && url.protocol !== "http:") throw refused("must be an https URL");
    if (url.username || url.password) throw refused("must not carry credentials");
    if (url.protocol === "http:" && allowed.length === 0) throw refused("must be an https URL");
    const target = await guard.resolve(url.hostname, "url").catch((e: unknown) => {
      throw isAppError(e) ? e : refused("its host name does not resolve");
    });
    if (url.protocol === "http:" && !allowList.check(target.address, target.family === 6 ? "ipv6" : "ipv4")) {
      throw refused("must be an https URL (http:// only to networks in PROVIDER_ALLOWED_NETWORKS)");
    }
  };
}

function refused(description: string): AppError {
  return new AppError("invalid_parameters", { violations: [{ field: "url", description }] });
}
