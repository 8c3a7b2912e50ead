/**
 * Record signatures: each peer holds an Ed25519 key pair (kept in
 * `DATA_DIR/peer-key.json`), signs the header of its own record, and checks
 * the headers it receives. The signing text and the set digest are plain
 * lines, so any implementation can reproduce them byte for byte.
 *
 * @module
 */
import type { GossipAdvertisement, RecordHeader } from "../../shared/contracts/gossip.ts";
import { AppError, errorMessage } from "../../shared/errors.ts";

/** File name of the key pair inside the data directory. */
export const PEER_KEY_FILE = "peer-key.json";

/** The first line of every header's signing text. */
export const SIGNING_CONTEXT = "sorcha-gossip-record-v1";

/** A header without its signature. */
export type UnsignedHeader = Omit<RecordHeader, "signature">;

/** The text a header's signature covers: the context line, then one field per line. */
export function signingText(header: UnsignedHeader): string {
  return [
    SIGNING_CONTEXT,
    header.peerId,
    header.url,
    header.publicKey,
    String(header.issuedAt),
    header.adsDigest,
    String(header.adsCount),
  ].join("\n");
}

/** The canonical text of a set: one `registerId syncState latestVersion latestDocketVersion` line each, sorted by id. */
export function canonicalAdvertisements(ads: readonly GossipAdvertisement[]): string {
  const lines = ads.map((ad) =>
    `${ad.registerId.toLowerCase()} ${ad.syncState} ${ad.latestVersion} ${ad.latestDocketVersion}\n`
  );
  // Sets usually arrive sorted already; checking is cheaper than sorting.
  for (let i = 1; i < lines.length; i++) {
    if (lines[i - 1]! > lines[i]!) {
      lines.sort();
      break;
    }
  }
  return lines.join("");
}

const encoder = new TextEncoder();

function hex(bytes: ArrayBuffer): string {
  return Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The digest of a set: `sha256:` and the hex SHA-256 of its canonical text. */
export async function advertisementsDigest(ads: readonly GossipAdvertisement[]): Promise<string> {
  const bytes = encoder.encode(canonicalAdvertisements(ads));
  return `sha256:${hex(await crypto.subtle.digest("SHA-256", bytes))}`;
}

/** Unpadded base64url of bytes. */
export function toBase64Url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/** Bytes of unpadded base64url text. */
export function fromBase64Url(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text.replaceAll("-", "+").replaceAll("_", "/"));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** A peer's key pair, able to sign its own headers. */
export class PeerSigner {
  /** The public key, unpadded base64url of its 32 raw bytes. */
  readonly publicKey: string;
  readonly #privateKey: CryptoKey;

  private constructor(privateKey: CryptoKey, publicKey: string) {
    this.#privateKey = privateKey;
    this.publicKey = publicKey;
  }

  /** A signer for a key pair. */
  static async fromKeyPair(pair: CryptoKeyPair): Promise<PeerSigner> {
    const raw = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
    return new PeerSigner(pair.privateKey, toBase64Url(raw));
  }

  /** A signer with a new key pair (not kept anywhere). */
  static async generate(): Promise<PeerSigner> {
    return await PeerSigner.fromKeyPair(await generateKeyPair());
  }

  /** Signs a header. */
  async sign(header: UnsignedHeader): Promise<RecordHeader> {
    const signature = await crypto.subtle.sign(
      "Ed25519",
      this.#privateKey,
      encoder.encode(signingText(header)),
    );
    return { ...header, signature: toBase64Url(new Uint8Array(signature)) };
  }

  /**
   * Signs any text and returns the signature (unpadded base64url). The text
   * must start with a context line of its own (such as the challenge's), so
   * that no signature made here can pass for a record header's.
   */
  async signText(text: string): Promise<string> {
    const signature = await crypto.subtle.sign("Ed25519", this.#privateKey, encoder.encode(text));
    return toBase64Url(new Uint8Array(signature));
  }
}

async function generateKeyPair(): Promise<CryptoKeyPair> {
  return await crypto.subtle.generateKey({ name: "Ed25519" }, true, [
    "sign",
    "verify",
  ]) as CryptoKeyPair;
}

/**
 * The peer's signer: the key pair kept in `dataDir/peer-key.json` (a JWK of
 * the private key, readable by the owner only), or a new one written there.
 * A file that holds no usable key stops the peer with
 * `failed_precondition` rather than silently becoming another identity.
 */
export async function loadPeerSigner(dataDir: string): Promise<PeerSigner> {
  const path = `${dataDir}/${PEER_KEY_FILE}`;
  let text: string | undefined;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) {
      throw new AppError("failed_precondition", `Cannot read the peer key from ${path}: ${error}`, {
        cause: error,
      });
    }
  }
  if (text !== undefined) {
    try {
      const jwk = JSON.parse(text) as JsonWebKey;
      const privateKey = await crypto.subtle.importKey("jwk", jwk, "Ed25519", true, ["sign"]);
      const publicKey = await crypto.subtle.importKey(
        "jwk",
        { kty: jwk.kty, crv: jwk.crv, x: jwk.x } as JsonWebKey,
        "Ed25519",
        true,
        ["verify"],
      );
      return await PeerSigner.fromKeyPair({ privateKey, publicKey });
    } catch (error) {
      throw new AppError(
        "failed_precondition",
        `Cannot use the peer key in ${path}: it is not an Ed25519 private key in JWK form (${
          errorMessage(error)
        }). Restore the file, or delete it to give this peer a new key (other peers then refuse its id until they forget the old key).`,
        { cause: error },
      );
    }
  }
  const pair = await generateKeyPair();
  const jwk = await crypto.subtle.exportKey("jwk", pair.privateKey);
  await Deno.mkdir(dataDir, { recursive: true });
  const temporary = `${path}.${crypto.randomUUID()}.tmp`;
  await Deno.writeTextFile(temporary, JSON.stringify(jwk) + "\n", { mode: 0o600 });
  await Deno.rename(temporary, path);
  return await PeerSigner.fromKeyPair(pair);
}

/** Options of {@link SignatureVerifier}. */
export interface SignatureVerifierOptions {
  /** How many verified signatures to remember, so a relayed header is checked once (default 20 000). */
  cacheSize?: number;
}

/** Checks header signatures, remembering recent results and imported keys. */
export class SignatureVerifier {
  readonly #verified = new Set<string>();
  readonly #keys = new Map<string, Promise<CryptoKey>>();
  readonly #cacheSize: number;

  /** Creates a verifier. */
  constructor(options: SignatureVerifierOptions = {}) {
    this.#cacheSize = options.cacheSize ?? 20_000;
  }

  /** Whether `header.signature` is `header.publicKey`'s signature of the header's signing text. */
  async verify(header: RecordHeader): Promise<boolean> {
    const text = signingText(header);
    // Remembered by the whole signed text and signature: a known signature
    // pasted onto other fields is checked afresh (and fails).
    const remembered = `${header.signature}\n${text}`;
    if (this.#verified.has(remembered)) return true;
    let ok: boolean;
    try {
      const key = await this.#key(header.publicKey);
      ok = await crypto.subtle.verify(
        "Ed25519",
        key,
        fromBase64Url(header.signature),
        encoder.encode(text),
      );
    } catch {
      ok = false;
    }
    if (ok) {
      if (this.#verified.size >= this.#cacheSize) this.#verified.clear();
      this.#verified.add(remembered);
    }
    return ok;
  }

  /** Whether `signature` is `publicKey`'s signature of `text` (not remembered: used for one-time texts). */
  async verifyText(publicKey: string, text: string, signature: string): Promise<boolean> {
    try {
      const key = await this.#key(publicKey);
      return await crypto.subtle.verify(
        "Ed25519",
        key,
        fromBase64Url(signature),
        encoder.encode(text),
      );
    } catch {
      return false;
    }
  }

  #key(publicKey: string): Promise<CryptoKey> {
    let key = this.#keys.get(publicKey);
    if (!key) {
      if (this.#keys.size >= 4_096) this.#keys.clear();
      key = crypto.subtle.importKey("raw", fromBase64Url(publicKey), "Ed25519", false, ["verify"]);
      key.catch(() => this.#keys.delete(publicKey));
      this.#keys.set(publicKey, key);
    }
    return key;
  }
}
