import { create } from "@bufbuild/protobuf";
import { pino } from "pino";
import type { ConnectorInput } from "../../../src/domain/connectors/connector.ts";
import { ImapEncryption, MailAuthSchema, type MailAuth } from "../../../gen/postpress/accounts/v1/variants_pb.js";
import { MAIL_PASSWORD, MAIL_USER } from "./lab.ts";
import type { HostPort } from "./net.ts";

/** A wrong password the tests use; like the right one, it must never show up in an error. */
export const WRONG_PASSWORD = "Wr0ng-Pa55word";

/** How a password could leak: as is, or base64 as SASL PLAIN and LOGIN send it. */
export function passwordForms(password: string): string[] {
  return [password, Buffer.from(`\0${MAIL_USER}\0${password}`).toString("base64"), Buffer.from(password).toString("base64")];
}

export interface MailFields {
  imap: HostPort;
  smtp: HostPort;
  imapEncryption?: ImapEncryption;
  imapUser?: string;
  imapPassword?: string;
  smtpUser?: string;
  smtpPassword?: string;
}

/** The MAIL variant for a pair of lab servers, with the lab's login unless told otherwise. */
export function mailAuth(fields: MailFields): MailAuth {
  return create(MailAuthSchema, {
    imapHost: fields.imap.host,
    imapPort: fields.imap.port,
    imapEncryption: fields.imapEncryption ?? ImapEncryption.DEFAULT,
    imapUser: fields.imapUser ?? MAIL_USER,
    imapPassword: fields.imapPassword ?? MAIL_PASSWORD,
    smtpHost: fields.smtp.host,
    smtpPort: fields.smtp.port,
    smtpUser: fields.smtpUser ?? MAIL_USER,
    smtpPassword: fields.smtpPassword ?? MAIL_PASSWORD,
  });
}

/** A connector input as the core builds it: the caller's signal and a deadline `deadlineMs` from now. */
export function mailInput(
  fields: MailFields,
  options: { signal?: AbortSignal; deadlineMs?: number } = {},
): ConnectorInput<"mail"> {
  return {
    variant: mailAuth(fields),
    shared: { country: "", ip: "" },
    signal: options.signal ?? new AbortController().signal,
    deadline: new Date(Date.now() + (options.deadlineMs ?? 10_000)),
    log: pino({ level: "silent" }),
  };
}
