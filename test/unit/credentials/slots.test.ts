import { describe, expect, it } from "vitest";
import { Slots } from "../../../src/domain/credentials/slots.ts";

describe("Slots (the cap on concurrent token refreshes)", () => {
  const never = new AbortController().signal;

  it("grants `size` at once; the next waits until one is released, in arrival order", async () => {
    const slots = new Slots(2);
    const a = await slots.acquire(never);
    await slots.acquire(never);
    const order: string[] = [];
    const c = slots.acquire(never).then((release) => (order.push("c"), release));
    const d = slots.acquire(never).then((release) => (order.push("d"), release));
    await Promise.resolve();
    expect(order).toEqual([]);
    a();
    (await c)();
    await d;
    expect(order).toEqual(["c", "d"]);
    // c's slot went to d, and b still holds the other: a release called twice (a's) freed nothing more.
    a();
    let granted = false;
    void slots.acquire(never).then(() => (granted = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(granted).toBe(false);
  });

  it("a waiter whose signal aborts leaves the queue with the signal's reason, and takes no slot", async () => {
    const slots = new Slots(1);
    const first = await slots.acquire(never);
    const gaveUp = new AbortController();
    const waiting = slots.acquire(gaveUp.signal);
    gaveUp.abort(new Error("deadline"));
    await expect(waiting).rejects.toThrow("deadline");
    first();
    // The slot is free again: the next caller gets it at once.
    const next = await slots.acquire(never);
    expect(typeof next).toBe("function");
  });

  it("an already aborted signal is refused before queueing", async () => {
    const slots = new Slots(1);
    await expect(slots.acquire(AbortSignal.abort(new Error("gone")))).rejects.toThrow("gone");
  });
});
