import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import * as grpc from "@grpc/grpc-js";
import { create, fromBinary, toBinary, toJson } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { codeFromString } from "@connectrpc/connect/protocol-connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ErrorInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { StatusSchema } from "../../gen/google/rpc/status_pb.js";
import { AccountService, ConnectAccountRequestSchema } from "../../gen/postpress/accounts/v1/account_service_pb.js";
import type { VariantCase } from "../../src/domain/connectors/connector.ts";
import { catalogue } from "../../src/errors/catalogue.ts";
import { callRpc, WIRES } from "../support/clients.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import { variantField, validRequest } from "../rpc/examples.ts";

/**
 * Issue 12, the fuzz corpus kept as a regression suite: 2,000 mutated protobuf bodies over
 * native gRPC and 2,000 malformed JSON bodies over Connect, from a fixed seed. Each must be
 * answered with a clean catalogue error (never INTERNAL or UNKNOWN, exactly one ErrorInfo of a
 * catalogue type), nothing may be logged at error level, the server must serve after, and its
 * heap must come back within 10 % of where it started once garbage is collected.
 */

const BODIES = 2000;
const PARALLEL = 16;
const CATALOGUE_TYPES = new Set(Object.values(catalogue).map((e) => e.type));
const VARIANTS = Object.keys(variantField) as VariantCase[];

// Forced collection, for the heap comparison (the test process is the server's process).
setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

let server: TestServer;
let channel: grpc.Client;
beforeAll(async () => {
  server = await startTestServer();
  channel = new grpc.Client(server.grpcAddress, grpc.credentials.createInsecure());
});
afterAll(async () => {
  channel.close();
  await server.close();
});

/** mulberry32: the same corpus on every run. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const binarySeeds = VARIANTS.map((v) => toBinary(ConnectAccountRequestSchema, create(ConnectAccountRequestSchema, validRequest(v))));
const jsonSeeds = VARIANTS.map((v) => toJson(ConnectAccountRequestSchema, create(ConnectAccountRequestSchema, validRequest(v))) as Record<string, unknown>);

/** A protobuf body one to three mutations away from a valid request. */
function mutateBinary(random: () => number): Uint8Array {
  const pick = (n: number) => Math.floor(random() * n);
  let bytes: Uint8Array = Uint8Array.from(binarySeeds[pick(binarySeeds.length)]!);
  for (let m = 0, count = 1 + pick(3); m < count && bytes.length > 0; m++) {
    const at = pick(bytes.length);
    switch (pick(7)) {
      case 0: bytes[at]! ^= 1 << pick(8); break; // flip a bit
      case 1: bytes[at] = pick(256); break; // replace a byte
      case 2: bytes = concat(bytes.subarray(0, at), Uint8Array.from([pick(256)]), bytes.subarray(at)); break; // insert
      case 3: bytes = concat(bytes.subarray(0, at), bytes.subarray(at + 1 + pick(8))); break; // delete a run
      case 4: bytes = bytes.subarray(0, at); break; // truncate
      case 5: bytes = concat(bytes, bytes.subarray(at, at + 1 + pick(32))); break; // repeat a slice at the end
      default: bytes = concat(bytes.subarray(0, at), Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0x0f]), bytes.subarray(at)); // a huge varint
    }
  }
  return bytes;
}

const JUNK = ['{', '}', '[', ']', '"', ':', ',', '\\', "0", "-", "e", "null", "true", "\u0000", "\ud800", "é"];

/** A JSON body that is broken as text, or well-formed JSON that is not a valid ConnectAccountRequest. */
function mutateJson(random: () => number): string {
  const pick = (n: number) => Math.floor(random() * n);
  const seed = structuredClone(jsonSeeds[pick(jsonSeeds.length)]!);
  const variantKey = Object.keys(seed).find((k) => typeof seed[k] === "object")!;
  const inner = seed[variantKey] as Record<string, unknown>;
  const innerKeys = Object.keys(inner);
  const someKey = innerKeys[pick(innerKeys.length)]!;
  switch (pick(10)) {
    case 0: inner[someKey.slice(0, -1)] = inner[someKey]; delete inner[someKey]; break; // misspelled key
    case 1: inner[someKey] = [1, { a: null }, "x"]; break; // wrong type
    case 2: inner[someKey] = { nested: { deeper: [[[{}]]] } }; break;
    case 3: inner[someKey] = -1.5e308; break;
    case 4: return JSON.stringify({ provider: "LINKEDIN", ...inner }); // the original flat body
    case 5: seed.telegram = {}; seed.twitter = {}; break; // two variants of the oneof
    case 6: return "[".repeat(1 + pick(5000)) + "]".repeat(pick(5000)); // nesting, balanced or not
    default: {
      // Text-level damage: delete, insert or duplicate characters.
      let text = JSON.stringify(seed);
      for (let m = 0, count = 1 + pick(4); m < count; m++) {
        const at = pick(text.length);
        const op = pick(3);
        if (op === 0) text = text.slice(0, at) + text.slice(at + 1 + pick(6));
        else if (op === 1) text = text.slice(0, at) + JUNK[pick(JUNK.length)] + text.slice(at);
        else text = text.slice(0, at) + text.slice(at, at + pick(40)) + text.slice(at);
      }
      return text;
    }
  }
  return JSON.stringify(seed);
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

interface Answer {
  code: Code;
  errorType: string | undefined;
  errorInfos: number;
}

function grpcAnswer(body: Uint8Array): Promise<Answer> {
  const metadata = new grpc.Metadata();
  metadata.set("x-api-key", server.apiKey);
  return new Promise((resolve) => {
    channel.makeUnaryRequest(`/${AccountService.typeName}/ConnectAccount`, (b: Uint8Array) => Buffer.from(b), (b: Buffer) => b, body, metadata, { deadline: Date.now() + 15_000 }, (err) => {
      if (!err) return resolve({ code: Code.Unknown, errorType: "OK (a mutated ConnectAccount cannot succeed here)", errorInfos: 0 });
      const bin = err.metadata.get("grpc-status-details-bin")[0];
      const infos = bin instanceof Uint8Array ? fromBinary(StatusSchema, bin).details.filter((d) => d.typeUrl.endsWith("/google.rpc.ErrorInfo")) : [];
      resolve({ code: err.code as number, errorType: infos[0] ? fromBinary(ErrorInfoSchema, infos[0].value).metadata.type : undefined, errorInfos: infos.length });
    });
  });
}

async function connectAnswer(body: string): Promise<Answer> {
  const res = await fetch(`${server.httpUrl}/${AccountService.typeName}/ConnectAccount`, { method: "POST", headers: { "content-type": "application/json", "x-api-key": server.apiKey }, body });
  const json = JSON.parse(await res.text()) as { code?: string; details?: { type: string; value: string }[] };
  const infos = (json.details ?? []).filter((d) => d.type === "google.rpc.ErrorInfo");
  return {
    code: codeFromString(json.code ?? "") ?? Code.Unknown,
    errorType: infos[0] ? fromBinary(ErrorInfoSchema, Buffer.from(infos[0].value, "base64")).metadata.type : undefined,
    errorInfos: infos.length,
  };
}

/** Sends `count` bodies, `PARALLEL` at a time; returns the answers that are not clean catalogue errors, and a tally by type. */
async function run<B>(count: number, make: () => B, send: (body: B) => Promise<Answer>) {
  const bad: string[] = [];
  const tally: Record<string, number> = {};
  let next = 0;
  await Promise.all(
    Array.from({ length: PARALLEL }, async () => {
      while (next < count) {
        next++;
        const body = make();
        const a = await send(body);
        tally[a.errorType ?? "none"] = (tally[a.errorType ?? "none"] ?? 0) + 1;
        const clean = a.code !== Code.Internal && a.code !== Code.Unknown && a.errorInfos === 1 && CATALOGUE_TYPES.has(a.errorType as never);
        if (!clean && bad.length < 10) bad.push(`${Code[a.code]} ${a.errorType} (${a.errorInfos} ErrorInfo) for ${JSON.stringify(typeof body === "string" ? body.slice(0, 300) : Buffer.from(body as Uint8Array).toString("base64").slice(0, 200))}`);
      }
    }),
  );
  return { bad, tally };
}

const errorLines = () => server.logs.filter((l) => (JSON.parse(l) as { level: number }).level >= 50);

describe("fuzz corpus", () => {
  it(`${BODIES} mutated protobuf bodies over gRPC and ${BODIES} malformed JSON bodies over Connect: clean catalogue errors, server alive, heap back`, async () => {
    // Warm-up: lazily loaded code (the validator, reflection of each message) is not a leak.
    const warmBinary = prng(1);
    const warmJson = prng(2);
    await run(500, () => mutateBinary(warmBinary), grpcAnswer);
    await run(500, () => mutateJson(warmJson), connectAnswer);
    server.logs.length = 0;
    gc();
    gc();
    const heapBefore = process.memoryUsage().heapUsed;

    const started = performance.now();
    const binaryRandom = prng(12);
    const jsonRandom = prng(11);
    const grpcResult = await run(BODIES, () => mutateBinary(binaryRandom), grpcAnswer);
    const connectResult = await run(BODIES, () => mutateJson(jsonRandom), connectAnswer);
    const seconds = (performance.now() - started) / 1000;

    expect(grpcResult.bad).toEqual([]);
    expect(connectResult.bad).toEqual([]);
    expect(errorLines()).toEqual([]);
    for (const wire of WIRES) expect((await callRpc(server, wire, AccountService.method.listAccounts, {}, { apiKey: server.apiKey })).ok, wire).toBe(true);

    // The captured log lines are the test's, not the server's (it writes them to stdout).
    server.logs.length = 0;
    gc();
    gc();
    const heapAfter = process.memoryUsage().heapUsed;
    const growth = (heapAfter - heapBefore) / heapBefore;
    console.log(
      `fuzz: ${2 * BODIES} bodies in ${seconds.toFixed(1)} s; heap ${(heapBefore / 1e6).toFixed(1)} → ${(heapAfter / 1e6).toFixed(1)} MB (${(growth * 100).toFixed(1)} %);`,
      "gRPC answers", JSON.stringify(grpcResult.tally), "Connect answers", JSON.stringify(connectResult.tally),
    );
    expect(growth).toBeLessThan(0.1);
  }, 120_000);
});
