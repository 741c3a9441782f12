import { SMTPServer } from "smtp-server";
import type { HostPort } from "./net.ts";
import type { ServerCertificate } from "./pki.ts";

export interface SmtpServerOptions {
  user: string;
  password: string;
  /** "tls": implicit TLS; "starttls": offers STARTTLS; "plain": no TLS at all. */
  mode: "tls" | "starttls" | "plain";
  certificate?: ServerCertificate;
  /** false hides AUTH from EHLO, like a relay that takes mail without logins. */
  offerAuth?: boolean;
  host?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
}

export interface TestSmtpServer {
  address: HostPort;
  /** Connections the server currently holds. */
  connections(): number;
  stop(): Promise<void>;
}

/** An in-process smtp-server that accepts one login (PLAIN or LOGIN) and nothing else. */
export async function startSmtpServer(options: SmtpServerOptions): Promise<TestSmtpServer> {
  const server = new SMTPServer({
    secure: options.mode === "tls",
    key: options.certificate?.key,
    cert: options.certificate?.cert,
    disabledCommands: [...(options.mode === "plain" ? ["STARTTLS"] : []), ...(options.offerAuth === false ? ["AUTH"] : [])],
    authMethods: ["PLAIN", "LOGIN"],
    disableReverseLookup: true,
    logger: false,
    onAuth(auth, _session, callback) {
      if (auth.username === options.user && auth.password === options.password) callback(null, { user: auth.username });
      else callback(new Error("Invalid username or password"));
    },
  });
  const host = options.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const address = server.server.address();
  if (address === null || typeof address === "string") throw new Error("no TCP address");
  return {
    address: { host, port: address.port },
    connections: () => server.connections.size,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
