import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.ts";

describe("API_KEY_CACHE_MS", () => {
  it("defaults to 5 s, takes 0 (no cache), refuses what isn't a whole number of ms", () => {
    expect(loadConfig({}).auth.apiKeyCacheMs).toBe(5_000);
    expect(loadConfig({ API_KEY_CACHE_MS: "0" }).auth.apiKeyCacheMs).toBe(0);
    expect(loadConfig({ API_KEY_CACHE_MS: "250" }).auth.apiKeyCacheMs).toBe(250);
    for (const bad of ["-1", "1.5", "soon"]) expect(() => loadConfig({ API_KEY_CACHE_MS: bad })).toThrow(/API_KEY_CACHE_MS must be a non-negative integer/);
  });
});
