import { randomFillSync } from "node:crypto";
import { ulid } from "ulid";

// ulid's default PRNG asks the OS for one byte at a time (16 calls per id); drawing the same
// cryptographic bytes 4 KiB at a time makes an id about as cheap as the string it is.
const pool = Buffer.alloc(4096);
let used = pool.length;

function pooledRandom(): number {
  if (used === pool.length) {
    randomFillSync(pool);
    used = 0;
  }
  return pool[used++]! / 256;
}

/** A new ULID (time-ordered, 80 random bits) after `prefix`, e.g. newId("acc_"). */
export function newId(prefix = ""): string {
  return prefix + ulid(undefined, pooledRandom);
}
