import { randomBytes } from "node:crypto";
import bigInt from "big-integer";
import { Api, errors } from "telegram";
import { AuthKey } from "telegram/crypto/AuthKey.js";
import { StringSession } from "telegram/sessions/index.js";
import type { TelegramClientFactory, TelegramClientLike, TelegramClientOptions } from "../../../src/drivers/telegram/client.ts";
import { SrpServer } from "./srp-server.ts";

/** A Telegram account as the fake knows it. */
export interface FakeTelegramAccount {
  user: Api.User;
  /** Two-step verification password, if the account has one. */
  password?: string;
  /** The account lives in another data center: the token answers LoginTokenMigrateTo first. */
  dcId?: number;
}

/** An RPC error exactly as GramJS builds it from Telegram's rpc_error (errors.RPCMessageToError). */
export function rpcError(code: number, message: string, request: Api.AnyRequest): Error {
  return errors.RPCMessageToError(new Api.RpcError({ errorCode: code, errorMessage: message }), request);
}

/**
 * A stand-in for GramJS's TelegramClient at the driver's client seam: invoke() answers the
 * MTProto calls of a QR login as Telegram does (auth.exportLoginToken → LoginToken until
 * scanned, then LoginTokenSuccess, LoginTokenMigrateTo or SESSION_PASSWORD_NEEDED;
 * account.getPassword / auth.checkPassword with real SRP, PASSWORD_HASH_INVALID when wrong;
 * FLOOD_WAIT_X when told to), raw updates go to the handlers (UpdateLoginToken on a scan), and
 * the session is a real StringSession that gets a DC and an auth key when authorized.
 */
export class FakeTelegramClient implements TelegramClientLike {
  readonly options: TelegramClientOptions;
  readonly session: StringSession;
  readonly calls: string[] = [];
  readonly switchedTo: number[] = [];
  destroyed = false;
  scanned = false;
  /** Seconds of FLOOD_WAIT the next call answers with, once. */
  floodWaitSeconds = 0;
  tokenLifetimeS = 30;
  private readonly handlers: ((update: unknown) => void)[] = [];
  private readonly world: FakeTelegram;

  constructor(options: TelegramClientOptions, world: FakeTelegram) {
    this.options = options;
    this.world = world;
    this.session = new StringSession(options.session);
  }

  async connect(): Promise<boolean> {
    this.calls.push("connect");
    if (this.world.unreachable) throw new Error("Connection to telegram failed after 2 time(s)");
    return true;
  }

  addEventHandler(callback: (update: unknown) => void): void {
    this.handlers.push(callback);
  }

  async _switchDC(dcId: number): Promise<boolean> {
    this.switchedTo.push(dcId);
    return true;
  }

  async destroy(): Promise<void> {
    this.destroyed = true;
  }

  /** The person scans the QR code with the phone logged in as `account`. */
  scan(account: FakeTelegramAccount): void {
    this.world.scannedBy = account;
    this.scanned = true;
    for (const handler of this.handlers) handler(new Api.UpdateLoginToken());
  }

  async invoke<R extends Api.AnyRequest>(request: R): Promise<R["__response"]> {
    this.calls.push(request.className);
    if (this.destroyed) throw new Error("Cannot send requests while disconnected");
    if (this.world.silent) return new Promise<never>(() => {});
    if (this.floodWaitSeconds) {
      const seconds = this.floodWaitSeconds;
      this.floodWaitSeconds = 0;
      throw rpcError(420, `FLOOD_WAIT_${seconds}`, request);
    }
    return (await this.answer(request)) as R["__response"];
  }

  private async answer(request: Api.AnyRequest): Promise<unknown> {
    const account = this.world.scannedBy;
    if (request instanceof Api.auth.ExportLoginToken) {
      if (!this.scanned || !account) return new Api.auth.LoginToken({ expires: Math.floor(Date.now() / 1000) + this.tokenLifetimeS, token: randomBytes(24) });
      if (account.dcId && !this.switchedTo.includes(account.dcId)) return new Api.auth.LoginTokenMigrateTo({ dcId: account.dcId, token: randomBytes(24) });
      if (account.password) throw rpcError(401, "SESSION_PASSWORD_NEEDED", request);
      return this.success(account);
    }
    if (request instanceof Api.auth.ImportLoginToken) {
      if (!account) throw rpcError(400, "AUTH_TOKEN_INVALID", request);
      if (account.password) throw rpcError(401, "SESSION_PASSWORD_NEEDED", request);
      return this.success(account);
    }
    if (request instanceof Api.account.GetPassword) {
      this.world.srp = await SrpServer.forPassword(account?.password ?? "");
      return this.world.srp.passwordInfo();
    }
    if (request instanceof Api.auth.CheckPassword) {
      if (!account || !this.world.srp?.check(request.password)) throw rpcError(400, "PASSWORD_HASH_INVALID", request);
      return (await this.success(account)).authorization;
    }
    if (request instanceof Api.users.GetUsers) {
      const known = this.world.sessions.get(this.options.session);
      if (!known) throw rpcError(401, "AUTH_KEY_UNREGISTERED", request);
      return [known.user];
    }
    throw rpcError(400, "METHOD_NOT_FAKED", request);
  }

  private async success(account: FakeTelegramAccount): Promise<Api.auth.LoginTokenSuccess> {
    const key = new AuthKey();
    await key.setKey(randomBytes(256));
    this.session.setDC(account.dcId ?? 2, "149.154.167.51", 443);
    this.session.setAuthKey(key);
    this.world.sessions.set(this.session.save(), account);
    return new Api.auth.LoginTokenSuccess({ authorization: new Api.auth.Authorization({ user: account.user }) });
  }
}

/** Telegram as the fake sees it: every client the driver made, and the sessions it authorized. */
export class FakeTelegram {
  readonly clients: FakeTelegramClient[] = [];
  readonly sessions = new Map<string, FakeTelegramAccount>();
  unreachable = false;
  /** Telegram accepts the connection and never answers a call (a half-open path). */
  silent = false;
  /** Applied to each new client (e.g. a flood wait on its first call). */
  configure: (client: FakeTelegramClient) => void = () => {};
  scannedBy: FakeTelegramAccount | undefined;
  srp: SrpServer | undefined;
  private readonly waiters: (() => void)[] = [];

  readonly factory: TelegramClientFactory = (options) => {
    const client = new FakeTelegramClient(options, this);
    this.configure(client);
    this.clients.push(client);
    for (const wake of this.waiters.splice(0)) wake();
    return client;
  };

  async client(index: number): Promise<FakeTelegramClient> {
    while (!this.clients[index]) await new Promise<void>((resolve) => this.waiters.push(resolve));
    return this.clients[index]!;
  }
}

export function telegramUser(fields: { id?: number; username?: string; phone?: string; firstName?: string; lastName?: string } = {}): Api.User {
  return new Api.User({
    id: bigInt(fields.id ?? 777000123),
    username: fields.username ?? "anna_k",
    phone: fields.phone ?? "33612345678",
    firstName: fields.firstName ?? "Anna",
    lastName: fields.lastName ?? "K",
    self: true,
  });
}
