import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { jittered, nextStatus } from "../../../src/domain/events/check-outcome.ts";
import { FIRST_DELAY_MS, MAX_DELAY_MS, nextAttemptAt } from "../../../src/domain/events/retry-schedule.ts";
import { signatureHeader, verifySignature } from "../../../src/domain/events/signature.ts";

const policy = { errorAfter: 3 };

describe("nextStatus", () => {
  it("turns a refusal into CREDENTIALS_EXPIRED at once, with the catalogue type as reason", () => {
    expect(nextStatus("CONNECTED", 0, "invalid_credentials", policy)).toEqual({ status: "CREDENTIALS_EXPIRED", reason: "errors/invalid_credentials", failures: 0 });
    expect(nextStatus("ERROR", 2, "invalid_credentials", policy).status).toBe("CREDENTIALS_EXPIRED");
  });

  it("turns transient failures into ERROR only at the third in a row, and a success back into CONNECTED", () => {
    expect(nextStatus("CONNECTED", 0, "provider_unreachable", policy)).toEqual({ status: "CONNECTED", reason: null, failures: 1 });
    expect(nextStatus("CONNECTED", 1, "request_timeout", policy)).toEqual({ status: "CONNECTED", reason: null, failures: 2 });
    expect(nextStatus("CONNECTED", 2, "provider_error", policy)).toEqual({ status: "ERROR", reason: "errors/provider_error", failures: 3 });
    expect(nextStatus("ERROR", 3, undefined, policy)).toEqual({ status: "CONNECTED", reason: null, failures: 0 });
  });

  it("spreads intervals by at most the jitter share", () => {
    expect(jittered(1_000, 10, () => 0)).toBe(900);
    expect(jittered(1_000, 10, () => 0.999999)).toBe(1_100);
    expect(jittered(1_000, 0, Math.random)).toBe(1_000);
  });
});

describe("retry schedule", () => {
  const created = new Date("2026-01-01T00:00:00Z");
  it("doubles from 30 s up to 4 h, ±25%", () => {
    const at = created;
    expect(nextAttemptAt(1, created, at, 86_400_000, () => 0.5)!.getTime() - at.getTime()).toBe(FIRST_DELAY_MS);
    expect(nextAttemptAt(3, created, at, 86_400_000, () => 0.5)!.getTime() - at.getTime()).toBe(4 * FIRST_DELAY_MS);
    expect(nextAttemptAt(30, created, at, 86_400_000, () => 0)!.getTime() - at.getTime()).toBe(MAX_DELAY_MS * 0.75);
  });
  it("stops once the next attempt would fall after the retry period", () => {
    expect(nextAttemptAt(12, created, new Date(created.getTime() + 23 * 3_600_000), 86_400_000, () => 0.5)).toBeUndefined();
  });
});

describe("signatures", () => {
  const secret = "whsec_test";
  const body = '{"id":"evt_1"}';
  const at = new Date("2026-12-01T12:00:00Z");
  it("is Stripe-style t=...,v1=HMAC-SHA256(secret, t.body)", () => {
    const t = at.getTime() / 1000;
    expect(signatureHeader(secret, body, at)).toBe(`t=${t},v1=${createHmac("sha256", secret).update(`${t}.${body}`).digest("hex")}`);
  });
  it("verifies, and refuses another body, another secret or an old timestamp", () => {
    const header = signatureHeader(secret, body, at);
    expect(verifySignature(secret, body, header, at)).toBe(true);
    expect(verifySignature(secret, `${body} `, header, at)).toBe(false);
    expect(verifySignature("whsec_other", body, header, at)).toBe(false);
    expect(verifySignature(secret, body, header, new Date(at.getTime() + 301_000))).toBe(false);
  });
});
