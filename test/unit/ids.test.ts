import { decodeTime } from "ulid";
import { describe, expect, it } from "vitest";
import { newId } from "../../src/ids.ts";

describe("newId", () => {
  it("is the prefix and a ULID of the current time", () => {
    const before = Date.now();
    const id = newId("acc_");
    expect(id).toMatch(/^acc_[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(decodeTime(id.slice(4))).toBeGreaterThanOrEqual(before);
    expect(decodeTime(id.slice(4))).toBeLessThanOrEqual(Date.now());
    expect(newId()).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
  });

  it("never repeats, across refills of its random pool", () => {
    const ids = Array.from({ length: 10_000 }, () => newId());
    expect(new Set(ids).size).toBe(ids.length);
    // Every random character position takes many values: the pool is not reused.
    for (let position = 10; position < 26; position++) expect(new Set(ids.map((id) => id[position])).size).toBe(32);
  });
});
