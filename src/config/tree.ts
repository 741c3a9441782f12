import type { Setting } from "./setting.ts";
import { Invalid } from "./setting.ts";

/** A nested group of settings: the shape of the parsed configuration. */
export interface SettingTree {
  readonly [key: string]: Setting<unknown> | SettingTree;
}

/** The typed configuration a tree of settings parses to. */
export type Parsed<T extends SettingTree> = {
  -readonly [K in keyof T]: T[K] extends Setting<infer V> ? V : T[K] extends SettingTree ? Parsed<T[K]> : never;
};

/** One refused value: which variable, what is wrong, what it accepts. */
export interface Problem {
  variable: string;
  message: string;
  accepted: string;
}

export function isSetting(node: Setting<unknown> | SettingTree): node is Setting<unknown> {
  return typeof node.read === "function";
}

/** Every setting of the tree, in declaration order. */
export function settingsOf(tree: SettingTree): Setting<unknown>[] {
  return Object.values(tree).flatMap((node) => (isSetting(node) ? [node] : settingsOf(node)));
}

/** Reads every setting of the tree from `env`, collecting a problem for each refused value. */
export function readTree<T extends SettingTree>(tree: T, env: Record<string, string | undefined>, problems: Problem[]): Parsed<T> {
  const out: Record<string, unknown> = {};
  for (const [key, node] of Object.entries(tree)) {
    if (!isSetting(node)) {
      out[key] = readTree(node, env, problems);
      continue;
    }
    try {
      out[key] = node.read(env[node.env]);
    } catch (e) {
      if (!(e instanceof Invalid)) throw e;
      // A secret's value is never echoed: it may be the secret itself, pasted in the wrong place.
      const got = node.secret ? "" : `, got ${JSON.stringify(env[node.env]?.trim())}`;
      problems.push({ variable: node.env, accepted: node.accepted, message: `${node.env} must be ${node.accepted}${e.reason ? ` (${e.reason})` : ""}${got}` });
    }
  }
  return out as Parsed<T>;
}
