import { BufferJSON, initAuthCreds, proto, type AuthenticationCreds, type AuthenticationState, type SignalDataSet, type SignalDataTypeMap } from "baileys";
import type { ProviderSession } from "../../domain/connectors/interactive.ts";

export const WHATSAPP_SESSION_FORMAT = "baileys-auth/v1";

type KeyTable = { [T in keyof SignalDataTypeMap]?: Record<string, SignalDataTypeMap[T]> };

/**
 * A Baileys authentication state held in memory: the credentials and the Signal keys the
 * library reads and writes as it talks. WhatsApp changes keys with traffic, so the state is
 * serialized whole (BufferJSON keeps the byte arrays) at the moment the session is handed over.
 * `useMultiFileAuthState` does the same on disk; we keep no file: the account store seals it.
 */
export class WhatsAppAuthState {
  readonly state: AuthenticationState;
  private readonly keys: KeyTable;

  constructor(creds: AuthenticationCreds = initAuthCreds(), keys: KeyTable = {}) {
    this.keys = keys;
    const table = this.keys as Record<string, Record<string, unknown>>;
    this.state = {
      creds,
      keys: {
        get: async <T extends keyof SignalDataTypeMap>(type: T, ids: string[]) => {
          const found: Record<string, SignalDataTypeMap[T]> = {};
          for (const id of ids) {
            let value = table[type]?.[id];
            // As useMultiFileAuthState does: a deserialized sync key is a plain object again.
            if (type === "app-state-sync-key" && value) value = proto.Message.AppStateSyncKeyData.fromObject(value);
            if (value !== undefined && value !== null) found[id] = value as SignalDataTypeMap[T];
          }
          return found;
        },
        set: async (data: SignalDataSet) => {
          for (const [type, entries] of Object.entries(data)) {
            const bucket = (table[type] ??= {});
            for (const [id, value] of Object.entries(entries ?? {})) {
              if (value === null || value === undefined) delete bucket[id];
              else bucket[id] = value;
            }
          }
        },
      },
    };
  }

  /** What `creds.update` carries: merged into the credentials the socket reads. */
  updateCreds(update: Partial<AuthenticationCreds>): void {
    Object.assign(this.state.creds, update);
  }

  toSession(): ProviderSession {
    return { format: WHATSAPP_SESSION_FORMAT, data: JSON.stringify({ creds: this.state.creds, keys: this.keys }, BufferJSON.replacer) };
  }

  /** Reopens a session handed over earlier; a session of another format or shape is refused. */
  static fromSession(session: ProviderSession): WhatsAppAuthState {
    if (session.format !== WHATSAPP_SESSION_FORMAT) throw new Error(`not a WhatsApp session (${session.format})`);
    const parsed = JSON.parse(session.data, BufferJSON.reviver) as { creds?: AuthenticationCreds; keys?: KeyTable };
    if (!parsed.creds?.noiseKey || !parsed.creds.me?.id) throw new Error("the WhatsApp session has no linked device");
    return new WhatsAppAuthState(parsed.creds, parsed.keys ?? {});
  }
}
