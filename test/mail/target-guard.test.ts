import { once } from "node:events";
import { createServer, type AddressInfo, type Server } from "node:net";
import { lookup } from "node:dns/promises";
import { networkInterfaces } from "node:os";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AccountService } from "../../gen/postpress/accounts/v1/account_service_pb.js";
import { ImapEncryption } from "../../gen/postpress/accounts/v1/variants_pb.js";
import { createMailConnector } from "../../src/domain/connectors/mail/index.ts";
import { callRpc, type RpcFailure, type RpcResult, type Wire } from "../support/clients.ts";
import { loopbackGuard } from "../support/loopback-guard.ts";
import { mailAuth, type MailFields } from "../support/mail/input.ts";
import { startMailLab, type MailLab } from "../support/mail/lab.ts";
import type { HostPort } from "../support/mail/net.ts";
import { startTestServer, type TestServer } from "../support/server.ts";

/**
 * Issue 12.4: a mail host must not let a caller probe the inside network. Every internal
 * target answers the same refusal, before anything is dialled; the operator's allow-list
 * (PROVIDER_ALLOWED_NETWORKS) turns the check off for the networks it names.
 */

const { connectAccount } = AccountService.method;
const WIRES = ["grpc", "connect-json"] as const satisfies readonly Wire[];

/** A dual-stack listener that counts the connections it gets and closes each at once. */
interface CountingListener {
  port: number;
  connections(): number;
  close(): Promise<void>;
}

async function countingListener(): Promise<CountingListener> {
  let count = 0;
  const server: Server = createServer((socket) => {
    count++;
    socket.destroy();
  });
  server.listen(0, "::");
  await once(server, "listening");
  return {
    port: (server.address() as AddressInfo).port,
    connections: () => count,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** A non-loopback address of one of this host's own interfaces, if it has one. */
function ownAddress(): string | undefined {
  return Object.values(networkInterfaces())
    .flatMap((entries) => entries ?? [])
    .find((entry) => !entry.internal && entry.family === "IPv4")?.address;
}

function failed<O>(result: RpcResult<O>): RpcFailure {
  if (result.ok) throw new Error("expected a failure, the call succeeded");
  return result.error;
}

/** What a caller can see of an error, minus the request id that differs on every call. */
function visible(error: RpcFailure) {
  const { requestId: _requestId, ...metadata } = error.errorInfo?.metadata ?? {};
  return { code: error.code, message: error.message, reason: error.errorInfo?.reason, metadata, violations: error.badRequest?.fieldViolations.map((v) => ({ field: v.field, description: v.description })) };
}

let listener: CountingListener;
let strict: TestServer;
let allowing: TestServer;
let lab: MailLab;

beforeAll(async () => {
  listener = await countingListener();
  lab = await startMailLab();
  // The production default: no allow-list.
  strict = await startTestServer({ connectors: [createMailConnector()] });
  allowing = await startTestServer({ connectors: [createMailConnector({ extraCaPem: lab.caPem, guard: loopbackGuard })] });
});
afterAll(async () => {
  await strict?.close();
  await allowing?.close();
  await lab?.stop();
  await listener?.close();
});

const connect = (server: TestServer, wire: Wire, fields: MailFields) =>
  callRpc(server, wire, connectAccount, { variant: { case: "mail", value: mailAuth(fields) } }, { apiKey: server.apiKey, timeoutMs: 10_000 });

describe("without an allow-list, every internal target answers one refusal and nothing is dialled", () => {
  const targets = (): HostPort[] => {
    const own = ownAddress();
    return [
      { host: "127.0.0.1", port: 1 },
      { host: "127.0.0.1", port: 5432 }, // PostgreSQL
      { host: "127.0.0.1", port: 6379 }, // Redis
      { host: "127.0.0.1", port: 3306 }, // MariaDB
      { host: "127.0.0.1", port: listener.port },
      { host: "10.1.2.3", port: 993 },
      { host: "172.16.0.1", port: 993 },
      { host: "192.168.1.1", port: 993 },
      { host: "100.64.0.1", port: 993 },
      { host: "169.254.169.254", port: 80 }, // cloud metadata
      { host: "0.0.0.0", port: listener.port },
      { host: "224.0.0.1", port: 993 },
      { host: "255.255.255.255", port: 993 },
      { host: "::1", port: listener.port },
      { host: "::", port: listener.port },
      { host: "::ffff:127.0.0.1", port: listener.port },
      { host: "fd00::1", port: 993 },
      { host: "fe80::1", port: 993 },
      { host: "localhost", port: listener.port }, // a name that resolves to loopback
      ...(own ? [{ host: own, port: listener.port }] : []),
    ];
  };

  it.each(WIRES)("over %s", async (wire) => {
    const answers = [];
    for (const target of targets()) answers.push({ target, answer: visible(failed(await connect(strict, wire, { imap: target, smtp: target }))) });
    const [first] = answers;
    expect(first?.answer).toMatchObject({
      code: Code.InvalidArgument,
      reason: "TARGET_NOT_ALLOWED",
      metadata: { type: "errors/target_not_allowed", httpStatus: "400", field: "mail.imap_host" },
      violations: [{ field: "mail.imap_host" }],
    });
    // Not one answer differs: whether something listens there, or where a name points, cannot be read from it.
    for (const { target, answer } of answers) expect(answer, `${target.host}:${target.port}`).toEqual(first?.answer);
    expect(listener.connections()).toBe(0);
  });

  it("an internal SMTP host is refused before the IMAP host, public, is dialled", async () => {
    // 192.0.2.0/24 is refused too (documentation); 8.8.8.8 would pass the guard, so nothing may be dialled before the SMTP check.
    const error = failed(await connect(strict, "grpc", { imap: { host: "8.8.8.8", port: 993 }, smtp: { host: "127.0.0.1", port: listener.port } }));
    expect(visible(error)).toMatchObject({ code: Code.InvalidArgument, metadata: { type: "errors/target_not_allowed", field: "mail.smtp_host" } });
    expect(listener.connections()).toBe(0);
  });
});

describe("PROVIDER_ALLOWED_NETWORKS lets the operator's networks through", () => {
  it("an allowed loopback listener is dialled, and answers as before the guard", async () => {
    const before = listener.connections();
    const error = failed(await connect(allowing, "grpc", { imap: { host: "127.0.0.1", port: listener.port }, smtp: { host: "127.0.0.1", port: listener.port } }));
    expect(error.errorInfo?.metadata.type).toBe("errors/provider_unreachable");
    expect(listener.connections()).toBeGreaterThan(before);
    const closed = failed(await connect(allowing, "grpc", { imap: lab.closed, smtp: lab.closed }));
    expect(closed.errorInfo?.metadata).toMatchObject({ type: "errors/provider_unreachable", cause: "refused" });
  });

  it("a name is dialled at the address it was checked at, and TLS still verifies the name", async () => {
    // The lab's certificate names localhost (and 127.0.0.1): the login only passes if SNI and verification use the name.
    expect((await lookup("localhost")).address, "this test needs localhost to resolve to 127.0.0.1 first").toBe("127.0.0.1");
    const fields: MailFields = {
      imap: { host: "localhost", port: lab.imap.trusted.imaps!.port },
      smtp: { host: "localhost", port: lab.smtp.starttls.address.port },
      imapEncryption: ImapEncryption.TLS,
    };
    const result = await connect(allowing, "grpc", fields);
    if (!result.ok) throw new Error(`expected success, got ${result.error.errorInfo?.metadata.type}: ${result.error.message}`);
    expect(result.response.accountId).toMatch(/^acc_/);
  });
});
