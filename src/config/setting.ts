import { parseNetworks, type Network } from "../net/address-policy.ts";

/**
 * One environment variable of the configuration: its name, what it means, its default, and
 * how its text becomes a typed value. The schema in src/config.ts is a tree of these; the
 * parser, the error messages and `--help` are all derived from it.
 */
export interface Setting<T> {
  readonly env: string;
  readonly doc: string;
  /** What the value may be, in words: shown in `--help` and in every error about it. */
  readonly accepted: string;
  /** The default as `--help` shows it; undefined when unset means "not set". */
  readonly shownDefault: string | undefined;
  /** Never echoed in an error (keys, passwords, URLs that may carry credentials). */
  readonly secret: boolean;
  /** The typed value of the raw text (undefined or blank: the default); throws Invalid. */
  read(raw: string | undefined): T;
}

/** A value the setting refuses; `reason` says what is wrong when "must be <accepted>" is not enough. */
export class Invalid extends Error {
  readonly reason: string | undefined;
  constructor(reason?: string) {
    super(reason ?? "invalid");
    this.reason = reason;
  }
}

interface Spec<T> {
  env: string;
  doc: string;
  accepted: string;
  /** Turns a non-blank value into T, or throws Invalid. */
  parse: (value: string) => T;
  secret?: boolean;
}

/** A setting with a default, given as the text an operator would write (parsed like any value). */
export function setting<T>(spec: Spec<T> & { default: string }): Setting<T>;
/** A setting that may stay unset (undefined). */
export function setting<T>(spec: Spec<T>): Setting<T | undefined>;
export function setting<T>(spec: Spec<T> & { default?: string }): Setting<T | undefined> {
  return {
    env: spec.env,
    doc: spec.doc,
    accepted: spec.accepted,
    shownDefault: spec.default,
    secret: spec.secret ?? false,
    read(raw) {
      // Blank counts as unset: compose files and shells often pass `NAME=` through.
      const value = raw?.trim() ? raw.trim() : spec.default;
      return value === undefined ? undefined : spec.parse(value);
    },
  };
}

// ---- value types --------------------------------------------------------------------------

export function integer(min: number, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value) => {
    const n = /^-?\d+$/.test(value) ? Number(value) : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) throw new Invalid();
    return n;
  };
}

export const PORT = { accepted: "a port number (0-65535; 0 picks a free one)", parse: integer(0, 65535) };
export const POSITIVE_MS = { accepted: "a positive whole number of milliseconds", parse: integer(1) };
export const NON_NEGATIVE_MS = { accepted: "a non-negative integer (milliseconds; 0 turns it off)", parse: integer(0) };

export function oneOf<const V extends string>(values: readonly V[]): { accepted: string; parse: (value: string) => V } {
  return {
    accepted: `one of ${values.join(", ")}`,
    parse: (value) => {
      if (!(values as readonly string[]).includes(value)) throw new Invalid();
      return value as V;
    },
  };
}

/** An absolute URL with one of `protocols`; a trailing slash is dropped where paths get appended. */
export function url(protocols: readonly string[], options: { base?: boolean } = {}): (value: string) => string {
  return (value) => {
    if (!URL.canParse(value)) throw new Invalid("the value is not a valid URL");
    if (!protocols.includes(new URL(value).protocol)) throw new Invalid(`the URL's scheme is not ${protocols.map((p) => p.replace(/:$/, "")).join(" or ")}`);
    return options.base ? value.replace(/\/+$/, "") : value;
  };
}

/** host:port as grpc-js takes it (a scheme would be read as part of the host name). */
export function hostPort(value: string): string {
  const m = /^(?:[\w.-]+|\[[0-9a-fA-F:.]+\]):(\d{1,5})$/.exec(value);
  if (!m || Number(m[1]) < 1 || Number(m[1]) > 65535) throw new Invalid();
  return value;
}

/** A comma- or space-separated list of CIDR networks; a bare address is a network of one. */
export const cidrList = {
  accepted: "CIDR networks, comma- or space-separated (e.g. 127.0.0.0/8,::1/128)",
  parse: (value: string): Network[] => {
    try {
      return parseNetworks(value);
    } catch (e) {
      throw new Invalid((e as Error).message);
    }
  },
};

/** One host:port, or several comma-separated (the replicas of one gateway), kept as written. */
export function hostPorts(value: string): string {
  for (const one of value.split(",")) hostPort(one.trim());
  return value;
}

/** Exact browser origins (scheme://host[:port], no path), comma- or space-separated; blank: none. */
export const originList = {
  accepted: "origins such as https://app.example.com,http://localhost:3000 (scheme://host[:port], no path)",
  parse: (value: string): string[] => {
    const list = value.split(/[\s,]+/).filter(Boolean);
    const bad = list.find((origin) => !/^https?:\/\/[^/\s]+$/.test(origin));
    if (bad !== undefined) throw new Invalid(`${JSON.stringify(bad.slice(0, 100))} is not an origin`);
    return list;
  },
};
