import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll } from "vitest";
import { openPostgresStore } from "../../src/store/postgres.ts";
import { openSqliteStore } from "../../src/store/sqlite.ts";
import type { Store } from "../../src/store/store.ts";
import { dropSchema, PG_URL, uniqueSchema } from "../support/pg.ts";

/** The machine's PostgreSQL (trust auth). */

/** Where one suite's data lives: open any number of stores on it, drop it at the end. */
export interface Location {
  open(): Promise<Store>;
  drop(): Promise<void>;
}

export interface Backend {
  kind: Store["kind"];
  create(): Promise<Location>;
}

export const backends: Backend[] = [
  {
    kind: "sqlite",
    async create() {
      const dir = await mkdtemp(join(tmpdir(), "store-test-"));
      return {
        open: () => openSqliteStore({ path: join(dir, "accounts.db") }),
        drop: () => rm(dir, { recursive: true, force: true }),
      };
    },
  },
  {
    kind: "postgres",
    async create() {
      const schema = uniqueSchema("store_test");
      return {
        open: () => openPostgresStore({ connectionString: PG_URL, schema }),
        drop: () => dropSchema(schema),
      };
    },
  },
];

/**
 * One store on a fresh location of `backend` for the enclosing suite (opened before its tests,
 * closed and dropped after them). Read its fields inside tests, not at collection time.
 */
export function storeForSuite(backend: Backend): { readonly store: Store; readonly location: Location } {
  const suite = {} as { store: Store; location: Location };
  beforeAll(async () => {
    suite.location = await backend.create();
    suite.store = await suite.location.open();
  });
  afterAll(async () => {
    await suite.store?.close();
    await suite.location?.drop();
  });
  return suite;
}
