import { randomBytes } from "node:crypto";

/** A SEALING_KEYS entry with a fresh random key; the base64 is returned so tests can check it never leaks. */
export function keyEntry(id: string, bytes = 32): { entry: string; material: string } {
  const material = randomBytes(bytes).toString("base64");
  return { entry: `${id}:${material}`, material };
}
