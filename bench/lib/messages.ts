import { create, fromBinary, toBinary, type DescMessage, type MessageInitShape } from "@bufbuild/protobuf";
import { ProxyProtocol } from "../../gen/postpress/accounts/v1/options_pb.js";
import {
  ConnectAccountRequestSchema,
  ConnectAccountResponseSchema,
  GetAccountRequestSchema,
  ListAccountsRequestSchema,
} from "../../gen/postpress/accounts/v1/account_service_pb.js";
import { GetCredentialsRequestSchema } from "../../gen/postpress/accounts/v1/credential_service_pb.js";

/**
 * The one ConnectAccount request every bench call sends: WhatsApp by QR code (no identity in
 * the request, see bench-connector.ts) through a proxy, with the shared options set.
 */
export function connectRequestInit(): MessageInitShape<typeof ConnectAccountRequestSchema> {
  return {
    variant: {
      case: "whatsapp",
      value: { proxy: { protocol: ProxyProtocol.HTTP, host: "203.0.113.10", port: 8080, username: "bench", password: "bench-proxy-password" } },
    },
    country: "US",
    ip: "198.51.100.7",
  };
}

export const connectRequest = () => toBinary(ConnectAccountRequestSchema, create(ConnectAccountRequestSchema, connectRequestInit()));
export const getRequest = (accountId: string) => toBinary(GetAccountRequestSchema, create(GetAccountRequestSchema, { accountId }));
export const credentialsRequest = (accountId: string) => toBinary(GetCredentialsRequestSchema, create(GetCredentialsRequestSchema, { accountId }));
export const listRequest = () => toBinary(ListAccountsRequestSchema, create(ListAccountsRequestSchema, { pageSize: 50 }));

/** Whether a ConnectAccount answer is the account linked (not a checkpoint): what every bench call must get. */
export const isAccountCreated = (answer: Uint8Array) => fromBinary(ConnectAccountResponseSchema, answer).outcome.case === "accountCreated";

/** The 5-byte gRPC length prefix (uncompressed) around one message. */
export function envelope(message: Uint8Array): Buffer {
  const out = Buffer.alloc(5 + message.byteLength);
  out.writeUInt32BE(message.byteLength, 1);
  out.set(message, 5);
  return out;
}

export function unenvelope(body: Buffer): Buffer {
  if (body.length < 5 || body[0] !== 0 || body.readUInt32BE(1) !== body.length - 5) throw new Error(`not one uncompressed gRPC message (${body.length} bytes)`);
  return body.subarray(5);
}

export type Schema = DescMessage;
