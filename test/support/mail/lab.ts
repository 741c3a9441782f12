import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startDovecot, type DovecotServer } from "./dovecot.ts";
import { canListen, clientSocketsTo, freePort, serverConnectionsOn, type HostPort } from "./net.ts";
import { createTestPki } from "./pki.ts";
import { startSilentServer, type SilentServer } from "./silent.ts";
import { startSmtpServer, type TestSmtpServer } from "./smtp.ts";

export const MAIL_USER = "anna@acme.test";
export const MAIL_PASSWORD = "s3cret-Pa55word";

/** Every mail server the tests talk to, real and on loopback. */
export interface MailLab {
  /** Trust this (extraCaPem) to trust the servers' certificates; the "untrusted" ones chain elsewhere. */
  caPem: string;
  imap: {
    /** Dovecot with the trusted certificate: `imap` offers STARTTLS, `imaps` is implicit TLS. */
    trusted: DovecotServer;
    /** Dovecot without TLS: no STARTTLS, no implicit TLS. */
    plain: DovecotServer;
    /** Dovecot with the untrusted certificate. */
    untrusted: DovecotServer;
  };
  smtp: {
    starttls: TestSmtpServer;
    plain: TestSmtpServer;
    untrusted: TestSmtpServer;
    /** STARTTLS, but no AUTH. */
    noAuth: TestSmtpServer;
    /** Implicit TLS on port 465, when this process may listen there. */
    tls465?: TestSmtpServer;
  };
  silent: SilentServer;
  /** Nothing listens here. */
  closed: HostPort;
  /**
   * Resolves once neither this process nor any server holds a connection: client sockets
   * must be gone at once, servers get a moment to notice the close. Rejects with the leftovers.
   */
  assertNoOpenConnections(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts the lab: a test PKI, three Dovecot instances, five smtp-server listeners and a
 * silent TCP server. Ports 465 and 993 are served on a random 127.x.y.z address (so
 * concurrent runs do not collide) when this process may listen on them, i.e. as root.
 */
export async function startMailLab(): Promise<MailLab> {
  const dir = await mkdtemp(join(tmpdir(), "pp-mail-lab-"));
  const stops: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    await Promise.all(stops.map((stop) => stop()));
    await rm(dir, { recursive: true, force: true });
  };
  /** Remembers how to stop each server as it starts, so a failed start leaves nothing running. */
  const started = async <T extends { stop(): Promise<void> }>(server: Promise<T>): Promise<T> => {
    const s = await server;
    stops.push(() => s.stop());
    return s;
  };
  try {
    const privileged = randomLoopback();
    const hasPrivileged = (await canListen(privileged, 465)) && (await canListen(privileged, 993));
    const pki = await createTestPki(dir, hasPrivileged ? [privileged] : []);
    const login = { user: MAIL_USER, password: MAIL_PASSWORD };

    const imap = {
      trusted: await started(startDovecot({ ...login, certificate: pki.server, port993Address: hasPrivileged ? privileged : undefined })),
      plain: await started(startDovecot({ ...login })),
      untrusted: await started(startDovecot({ ...login, certificate: pki.untrusted })),
    };
    const smtp = {
      starttls: await started(startSmtpServer({ ...login, mode: "starttls", certificate: pki.server })),
      plain: await started(startSmtpServer({ ...login, mode: "plain" })),
      untrusted: await started(startSmtpServer({ ...login, mode: "starttls", certificate: pki.untrusted })),
      noAuth: await started(startSmtpServer({ ...login, mode: "starttls", certificate: pki.server, offerAuth: false })),
      tls465: hasPrivileged
        ? await started(startSmtpServer({ ...login, mode: "tls", certificate: pki.server, host: privileged, port: 465 }))
        : undefined,
    };
    const silent = await started(startSilentServer());
    const closed = { host: "127.0.0.1", port: await freePort() };

    const dovecotListeners = Object.values(imap).flatMap((d) => d.listeners);
    const smtps = Object.values(smtp).filter((s): s is TestSmtpServer => s !== undefined);
    const everything = [...dovecotListeners, ...smtps.map((s) => s.address), silent.address, closed];
    const serverLeftovers = async () => {
      const counts = {
        dovecot: await serverConnectionsOn(dovecotListeners),
        smtp: smtps.reduce((sum, s) => sum + s.connections(), 0),
        silent: await silent.connections(),
      };
      return Object.values(counts).some((n) => n > 0) ? JSON.stringify(counts) : "";
    };

    return {
      caPem: pki.caPem,
      imap,
      smtp,
      silent,
      closed,
      async assertNoOpenConnections() {
        const clients = await clientSocketsTo(everything);
        if (clients.length > 0) throw new Error(`client sockets left open: ${clients.join(", ")}`);
        let leftovers = await serverLeftovers();
        for (const until = Date.now() + 3_000; leftovers && Date.now() < until; leftovers = await serverLeftovers()) {
          await new Promise((resolve) => setTimeout(resolve, 25));
        }
        if (leftovers) throw new Error(`servers still hold connections: ${leftovers}`);
      },
      stop: stopAll,
    };
  } catch (e) {
    await stopAll();
    throw e;
  }
}

/** 127.0.0.0/8 is all loopback on Linux; a random address keeps parallel runs apart on fixed ports. */
function randomLoopback(): string {
  const byte = () => 1 + Math.floor(Math.random() * 254);
  return `127.${byte()}.${byte()}.${byte()}`;
}
