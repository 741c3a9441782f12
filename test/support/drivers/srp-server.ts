import { createHash, randomBytes } from "node:crypto";
import bigInt from "big-integer";
import { Api } from "telegram";
import { computeDigest } from "telegram/Password.js";

/** Telegram's 2048-bit SRP group (g = 3): the only one GramJS accepts (Password.ts, checkPrimeAndGood). */
const P_HEX =
  "c71caeb9c6b1c9048e6c522f70f13f73980d40238e3e21c14934d037563d930f48198a0aa7c14058229493d22530f4dbfa336f6e0ac925139543aed44cce7c3720fd51f69458705ac68cd4fe6b6b13abdc9746512969328454f18faf8c595f642477fe96bb2a941d5bcd1d4ac8cc49880708fa9b378e3c4f3a9060bee67cf9a4a4a695811051907e162753b56b0f6b410dba74d8a84b2a14b3144e0ef1284754fd17ed950d5965b4b9dd46582db1178d169c6bc465b0d6ff9ca3928fef5b9ae4e418fc15e83ebea0f87fa9ff5eed70050ded2849f47bf959d956850ce929851f0d8115f635b105ee2e4e15d04b2454bf6f4fadf034b10403119cd8e3b92fcc5b";
const P = BigInt(`0x${P_HEX}`);
const G = 3n;

function modPow(base: bigint, exp: bigint, mod: bigint): bigint {
  let result = 1n;
  base %= mod;
  while (exp > 0n) {
    if (exp & 1n) result = (result * base) % mod;
    base = (base * base) % mod;
    exp >>= 1n;
  }
  return result;
}

const pad = (n: bigint) => Buffer.from(n.toString(16).padStart(512, "0"), "hex");
const big = (b: Buffer | Uint8Array) => BigInt(`0x${Buffer.from(b).toString("hex") || "0"}`);
const sha256 = (...parts: Buffer[]) => createHash("sha256").update(Buffer.concat(parts)).digest();

/**
 * Telegram's side of two-step verification (core.telegram.org/api/srp): it holds the verifier
 * v = g^x of one password, hands out account.Password with a fresh B, and checks the
 * InputCheckPasswordSRP that GramJS's computeCheck answers with. A wrong password fails M1.
 */
export class SrpServer {
  private readonly algo: Api.PasswordKdfAlgoSHA256SHA256PBKDF2HMACSHA512iter100000SHA256ModPow;
  private verifier = 0n;
  private b = 0n;
  private B = 0n;
  

  private constructor() {
    this.algo = new Api.PasswordKdfAlgoSHA256SHA256PBKDF2HMACSHA512iter100000SHA256ModPow({ salt1: randomBytes(40), salt2: randomBytes(16), g: 3, p: Buffer.from(P_HEX, "hex") });
  }

  static async forPassword(password: string): Promise<SrpServer> {
    const server = new SrpServer();
    server.verifier = big(await computeDigest(server.algo, password));
    return server;
  }

  /** account.getPassword: the algorithm and a fresh B = k·v + g^b. */
  passwordInfo(): Api.account.Password {
    this.b = big(randomBytes(256));
    const k = big(sha256(pad(P), pad(G)));
    this.B = (k * this.verifier + modPow(G, this.b, P)) % P;
    return new Api.account.Password({ hasPassword: true, currentAlgo: this.algo, srp_B: pad(this.B), srpId: bigInt(randomBytes(6).toString("hex"), 16), hint: "", newAlgo: new Api.PasswordKdfAlgoUnknown(), newSecureAlgo: new Api.SecurePasswordKdfAlgoUnknown(), secureRandom: randomBytes(32) });
  }

  /** auth.checkPassword: true when M1 proves the password. */
  check(input: Api.TypeInputCheckPasswordSRP): boolean {
    if (!(input instanceof Api.InputCheckPasswordSRP)) return false;
    const A = big(input.A);
    const u = big(sha256(pad(A), pad(this.B)));
    const S = modPow((A * modPow(this.verifier, u, P)) % P, this.b, P);
    const K = sha256(pad(S));
    const hp = sha256(pad(P));
    const hg = sha256(pad(G));
    const xored = Buffer.from(hp.map((byte, i) => byte ^ hg[i]!));
    const M1 = sha256(xored, sha256(Buffer.from(this.algo.salt1)), sha256(Buffer.from(this.algo.salt2)), pad(A), pad(this.B), K);
    return M1.equals(Buffer.from(input.M1));
  }
}
