import { create } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { BadRequestSchema, ErrorInfoSchema, RetryInfoSchema } from "../../../gen/google/rpc/error_details_pb.js";
import { AppError, isAppError } from "../../../src/errors/app-error.ts";
import { catalogue, type ErrorKind } from "../../../src/errors/catalogue.ts";
import { asAppError, ERROR_DOMAIN, toConnectError, wireDetails } from "../../../src/errors/to-wire.ts";

/** The one mapping from an AppError to wire details. */

const kinds = Object.keys(catalogue) as ErrorKind[];

describe("wireDetails", () => {
  it.each(kinds)("%s: exactly one ErrorInfo, first, with reason, domain, type, httpStatus and requestId", (kind) => {
    const details = wireDetails(new AppError(kind), "req-1");
    const infos = details.filter((d) => d.desc === ErrorInfoSchema);
    expect(infos).toHaveLength(1);
    expect(details[0]!.desc).toBe(ErrorInfoSchema);
    const info = create(ErrorInfoSchema, infos[0]!.value as never);
    expect(info.reason).toBe(catalogue[kind].reason);
    expect(info.domain).toBe(ERROR_DOMAIN);
    expect(info.metadata).toEqual({ type: catalogue[kind].type, httpStatus: String(catalogue[kind].httpStatus), requestId: "req-1" });
    expect(details.some((d) => d.desc === RetryInfoSchema)).toBe(catalogue[kind].retryable);
    expect(details.some((d) => d.desc === BadRequestSchema)).toBe(false);
  });

  it("safe metadata is kept, but cannot override type, httpStatus or requestId", () => {
    const details = wireDetails(new AppError("already_exists", { metadata: { accountId: "acc_1", type: "errors/forged", httpStatus: "200", requestId: "x" } }), "req-2");
    const info = create(ErrorInfoSchema, details[0]!.value as never);
    expect(info.metadata).toEqual({ accountId: "acc_1", type: "errors/already_exists", httpStatus: "409", requestId: "req-2" });
  });

  it("violations become one BadRequest with one field violation each", () => {
    const details = wireDetails(new AppError("invalid_parameters", { violations: [{ field: "a.b", description: "bad" }, { field: "c[0]", description: "worse" }] }), "r");
    const bad = details.filter((d) => d.desc === BadRequestSchema);
    expect(bad).toHaveLength(1);
    expect(create(BadRequestSchema, bad[0]!.value as never).fieldViolations.map((v) => [v.field, v.description])).toEqual([
      ["a.b", "bad"],
      ["c[0]", "worse"],
    ]);
  });

  it("echoes at most a short prefix of a field, a description, a metadata value and the message, and at most 16 violations", () => {
    const huge = "k".repeat(1024 * 1024);
    const violations = Array.from({ length: 40 }, (_, i) => ({ field: `headers["${i}${huge}"]`, description: `bad ${huge}` }));
    const error = new AppError("invalid_parameters", { detail: huge, metadata: { host: huge }, violations });
    const details = wireDetails(error, "r");
    const bad = create(BadRequestSchema, details.find((d) => d.desc === BadRequestSchema)!.value as never).fieldViolations;
    expect(bad).toHaveLength(16);
    expect(bad[0]).toMatchObject({ field: `headers["0${"k".repeat(54)}…`, description: `bad ${"k".repeat(124)}…` });
    expect(create(ErrorInfoSchema, details[0]!.value as never).metadata.host).toBe(`${"k".repeat(256)}…`);
    expect(toConnectError(error, "r").rawMessage).toHaveLength(513);
  });

  it("never cuts a surrogate pair in half", () => {
    const error = new AppError("invalid_parameters", { violations: [{ field: `${"a".repeat(63)}😀😀`, description: "d" }] });
    const bad = create(BadRequestSchema, wireDetails(error, "r").find((d) => d.desc === BadRequestSchema)!.value as never).fieldViolations;
    expect(bad[0]!.field).toBe(`${"a".repeat(63)}…`);
  });

  it("RetryInfo carries the provider's delay, else one second", () => {
    const delay = (e: AppError) => create(RetryInfoSchema, wireDetails(e, "r").find((d) => d.desc === RetryInfoSchema)!.value as never).retryDelay!;
    expect(delay(new AppError("provider_error", { retryAfterMs: 2500 }))).toMatchObject({ seconds: 2n, nanos: 500_000_000 });
    expect(delay(new AppError("provider_error"))).toMatchObject({ seconds: 1n, nanos: 0 });
    expect(wireDetails(new AppError("invalid_credentials", { retryAfterMs: 2500 }), "r").some((d) => d.desc === RetryInfoSchema)).toBe(false);
  });
});

describe("AppError and asAppError", () => {
  it("the message is the catalogue's, plus a safe detail", () => {
    expect(new AppError("no_channel").message).toBe(catalogue.no_channel.message);
    expect(new AppError("no_channel", { detail: "(gateway 3)" }).message).toBe(`${catalogue.no_channel.message} (gateway 3)`);
  });
  it("anything that is not an AppError becomes unexpected_error; its message stays on the server", () => {
    const cause = new Error("db password is hunter2");
    const e = asAppError(cause);
    expect(isAppError(e)).toBe(true);
    expect(e.kind).toBe("unexpected_error");
    expect(e.cause).toBe(cause);
    expect(e.message).not.toContain("hunter2");
    expect(toConnectError(e, "r").rawMessage).not.toContain("hunter2");
  });
  it("an AppError passes through unchanged", () => {
    const e = new AppError("session_mismatch");
    expect(asAppError(e)).toBe(e);
  });
  it.each(kinds)("toConnectError(%s) carries the catalogue's code and message", (kind) => {
    const ce = toConnectError(new AppError(kind), "r");
    expect(ce.code).toBe(catalogue[kind].code);
    expect(ce.rawMessage).toBe(catalogue[kind].message);
    expect(Code[ce.code]).toBeDefined();
  });
});
