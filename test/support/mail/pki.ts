import { execFile } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** A server certificate and its key, as files (Dovecot reads files) and as PEM. */
export interface ServerCertificate {
  certFile: string;
  keyFile: string;
  cert: string;
  key: string;
}

export interface TestPki {
  /** The test CA: pass it as extraCaPem to trust `server`. */
  caPem: string;
  /** Signed by the test CA, for 127.0.0.1, localhost and the given extra addresses. */
  server: ServerCertificate;
  /** Signed by a second CA that nobody trusts: the "untrusted certificate" case. */
  untrusted: ServerCertificate;
}

/**
 * Generates a throwaway PKI with the openssl CLI: two CAs, one server certificate from
 * each. EC P-256 keys keep it fast; the certificates live two days.
 */
export async function createTestPki(dir: string, extraAddresses: string[] = []): Promise<TestPki> {
  const sans = ["IP:127.0.0.1", "DNS:localhost", ...extraAddresses.map((a) => `IP:${a}`)].join(",");
  const trusted = await createCa(dir, "test-ca", "postpress test CA");
  const rogue = await createCa(dir, "rogue-ca", "postpress untrusted CA");
  return {
    caPem: trusted.pem,
    server: await issue(dir, "server", trusted.name, sans),
    untrusted: await issue(dir, "untrusted", rogue.name, sans),
  };
}

async function createCa(dir: string, name: string, subject: string) {
  await openssl(dir, [
    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
    "-keyout", `${name}.key`, "-out", `${name}.crt`, "-days", "2", "-subj", `/CN=${subject}`,
    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
  ]);
  return { name, pem: await readFile(join(dir, `${name}.crt`), "utf8") };
}

async function issue(dir: string, name: string, ca: string, sans: string): Promise<ServerCertificate> {
  await openssl(dir, [
    "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
    "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", "/CN=localhost",
  ]);
  const extensions = [
    "basicConstraints=critical,CA:FALSE",
    "keyUsage=critical,digitalSignature",
    "extendedKeyUsage=serverAuth",
    `subjectAltName=${sans}`,
    "subjectKeyIdentifier=hash",
    "authorityKeyIdentifier=keyid",
  ];
  await writeFile(join(dir, `${name}.ext`), extensions.join("\n") + "\n");
  await openssl(dir, [
    "x509", "-req", "-in", `${name}.csr`, "-CA", `${ca}.crt`, "-CAkey", `${ca}.key`, "-set_serial", "0x01",
    "-days", "2", "-out", `${name}.crt`, "-extfile", `${name}.ext`,
  ]);
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  return { certFile, keyFile, cert: await readFile(certFile, "utf8"), key: await readFile(keyFile, "utf8") };
}

async function openssl(cwd: string, args: string[]) {
  await run("openssl", args, { cwd });
}
