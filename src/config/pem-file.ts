import { readFileSync } from "node:fs";
import { extraCertificates } from "../domain/connectors/mail/tls.ts";
import { Invalid } from "./setting.ts";

/** A PEM bundle of extra CAs, read and checked at start-up (`label` names it in errors). */
export function pemFile(path: string, label = "mail"): Buffer {
  let pem: Buffer;
  try {
    pem = readFileSync(path);
  } catch (e) {
    throw new Invalid(`cannot read it: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    extraCertificates(pem, label);
  } catch (e) {
    throw new Invalid((e as Error).message.replace(/\.$/, ""));
  }
  return pem;
}
