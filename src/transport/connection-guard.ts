import * as http2 from "node:http2";
import type { TransportSettings } from "../config.ts";

const RESET_WINDOW_MS = 10_000;

/**
 * What one HTTP/2 connection (either port) may do before it is closed:
 * - open its first stream within `handshakeTimeoutMs` (a client that connects and says
 *   nothing, or only the preface, is cut);
 * - stay without any stream in flight for at most `idleTimeoutMs` (then GOAWAY and close);
 * - cancel at most `maxResetsPerConnection` streams in any 10 s (rapid reset,
 *   CVE-2023-44487), then GOAWAY ENHANCE_YOUR_CALM and close.
 * The concurrent-stream cap is an HTTP/2 setting, given where each server is created.
 */
export function guardHttp2Session(session: http2.ServerHttp2Session, settings: TransportSettings): void {
  let active = 0;
  let resets = 0;
  let windowStart = Date.now();
  // Destroying a session that never got a frame leaves its socket open (Node 24), so the
  // socket is reset first.
  const handshake = setTimeout(() => {
    session.socket?.resetAndDestroy();
    session.destroy();
  }, settings.handshakeTimeoutMs);
  let idle: NodeJS.Timeout | undefined;
  const clear = () => {
    clearTimeout(handshake);
    clearTimeout(idle);
  };
  session.once("close", clear);
  session.on("stream", (stream: http2.ServerHttp2Stream) => {
    clear();
    active++;
    stream.once("close", () => {
      active--;
      if ((stream.rstCode ?? http2.constants.NGHTTP2_NO_ERROR) !== http2.constants.NGHTTP2_NO_ERROR && countReset()) return;
      if (active === 0 && !session.closed && !session.destroyed) idle = setTimeout(() => session.close(), settings.idleTimeoutMs);
    });
  });

  /** Counts one cancelled stream; true when that exhausts the budget and the session is closed. */
  function countReset(): boolean {
    const now = Date.now();
    if (now - windowStart > RESET_WINDOW_MS) {
      windowStart = now;
      resets = 0;
    }
    if (++resets <= settings.maxResetsPerConnection || session.destroyed) return false;
    clear();
    session.destroy(undefined, http2.constants.NGHTTP2_ENHANCE_YOUR_CALM);
    return true;
  }
}
