/**
 * The URL challenge: a peer about to send `NETWORK_TOKEN` to a URL it
 * learned from a record sends a fresh random nonce there first (without the
 * token), and a peer answers with its id, its URL and its key, signed
 * together with that nonce by the key of its record. The answer is checked
 * against the record: same id, same URL, same key, the challenger's own
 * nonce, a good signature. The signing text is plain lines, as a record's.
 *
 * @module
 */
import { type ChallengeResponse, GOSSIP_PROTOCOL } from "../../shared/contracts/gossip.ts";
import { shortenInput } from "../../shared/quote.ts";
import { normalizeUrl } from "./membership.ts";
import { type PeerSigner, type SignatureVerifier, toBase64Url } from "./signing.ts";

/** The first line of every challenge answer's signing text (never a record's). */
export const CHALLENGE_CONTEXT = "sorcha-gossip-challenge-v1";

/** Random bytes in a nonce. */
export const NONCE_BYTES = 32;

/** Who a challenge answer says it is. */
export interface ChallengeIdentity {
  /** The peer's id. */
  peerId: string;
  /** The peer's base URL, as its record announces it. */
  url: string;
  /** The peer's record key. */
  publicKey: string;
}

/** Why an answer was refused, and whether a genuine peer gave it (one with another identity). */
export interface ChallengeRefusal {
  /** What is wrong, for logs and `lastError`. */
  reason: string;
  /** True when the answer is a valid proof of another peer: a peer is there, just not this one. */
  otherPeer: boolean;
}

/** A fresh nonce: {@link NONCE_BYTES} random bytes, unpadded base64url. */
export function newNonce(): string {
  return toBase64Url(crypto.getRandomValues(new Uint8Array(NONCE_BYTES)));
}

/** The text an answer's signature covers: the context line, the nonce, then the identity. */
export function challengeText(nonce: string, identity: ChallengeIdentity): string {
  return [
    CHALLENGE_CONTEXT,
    nonce,
    identity.peerId,
    normalizeUrl(identity.url),
    identity.publicKey,
  ].join("\n");
}

/** This peer's answer to a challenge: its identity and the nonce, signed. */
export async function answerChallenge(
  signer: PeerSigner,
  identity: Omit<ChallengeIdentity, "publicKey">,
  nonce: string,
): Promise<ChallengeResponse> {
  const signed = { ...identity, url: normalizeUrl(identity.url), publicKey: signer.publicKey };
  return {
    protocol: GOSSIP_PROTOCOL,
    ...signed,
    nonce,
    signature: await signer.signText(challengeText(nonce, signed)),
  };
}

/**
 * Checks an answer to the challenge `nonce` sent to `expected.url`, for the
 * peer `expected` (the identity its record gives). Returns why it is refused,
 * or undefined when it proves that this peer answers at that URL.
 */
export async function checkChallengeAnswer(
  answer: ChallengeResponse,
  expected: ChallengeIdentity & { nonce: string },
  verifier: SignatureVerifier,
): Promise<ChallengeRefusal | undefined> {
  if (answer.nonce !== expected.nonce) {
    return { reason: "the answer is for another challenge (replayed)", otherPeer: false };
  }
  if (
    !(await verifier.verifyText(
      answer.publicKey,
      challengeText(expected.nonce, answer),
      answer.signature,
    ))
  ) {
    return { reason: "the answer's signature does not verify", otherPeer: false };
  }
  const mismatches: string[] = [];
  if (answer.peerId !== expected.peerId) mismatches.push(`as peer "${answer.peerId}"`);
  if (answer.publicKey !== expected.publicKey) mismatches.push("with another key");
  if (normalizeUrl(answer.url) !== normalizeUrl(expected.url)) {
    mismatches.push(`for the URL ${shortenInput(answer.url)}`);
  }
  if (mismatches.length === 0) return undefined;
  return { reason: `a peer answers there ${mismatches.join(", ")}`, otherPeer: true };
}
