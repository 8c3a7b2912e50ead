/**
 * The gossip contract between peers (`POST /api/gossip/exchange`,
 * `POST /api/gossip/push`) and the membership view (`GET /api/peers`), as
 * zod schemas shared by the peer (validation, OpenAPI document) and its
 * client (answer validation). The rules behind the shapes are in
 * `specs/gossip/README.md`.
 *
 * A peer's public advertisements travel as one **record**: a signed header
 * (who, where, when, which set) and the set itself. Only the owner of a
 * record can sign it, so a record may be relayed by anyone but asserted by
 * its owner alone.
 *
 * Before a peer sends `NETWORK_TOKEN` to a URL it learned from a record, the
 * URL proves it is that record's owner: `GET /api/gossip/challenge?nonce=…`
 * (no token) is answered with the owner's signature of the nonce, its id, URL
 * and key.
 *
 * @module
 */
import { z } from "@hono/zod-openapi";
import { RegisterIdSchema, VersionSchema } from "./advertisements.ts";
import { requiredOr, unknownFields } from "./fields.ts";

/** The protocol version these shapes describe. */
export const GOSSIP_PROTOCOL = 1;

/** Most advertisements one record may carry. */
export const MAX_RECORD_ADVERTISEMENTS = 50_000;

/** Most advertisements one message may carry, all records together. */
export const MAX_MESSAGE_ADVERTISEMENTS = 100_000;

/** Most records (or digest entries) one message may carry. */
export const MAX_MESSAGE_RECORDS = 4_096;

/** Replication states an advertisement can be in (contract names). */
export const GossipSyncStateSchema = z.enum(
  ["Subscribing", "Syncing", "FullyReplicated", "Active", "Error"],
  requiredOr("must be one of Subscribing, Syncing, FullyReplicated, Active, Error"),
);

/** A peer id: 1 to 64 of `A-Z a-z 0-9 _ -`. */
export const GossipPeerIdSchema = z.string(requiredOr("must be 1 to 64 of A-Z a-z 0-9 _ -"))
  .regex(/^[A-Za-z0-9_-]{1,64}$/, { message: "must be 1 to 64 of A-Z a-z 0-9 _ -" });

const BASE64URL_MESSAGE = (bytes: number, chars: number) =>
  `must be ${bytes} bytes in unpadded base64url (${chars} characters)`;

/** An Ed25519 public key: 32 bytes, unpadded base64url. */
export const PublicKeySchema = z.string(requiredOr(BASE64URL_MESSAGE(32, 43)))
  .regex(/^[A-Za-z0-9_-]{43}$/, { message: BASE64URL_MESSAGE(32, 43) });

/** An Ed25519 signature: 64 bytes, unpadded base64url. */
export const SignatureSchema = z.string(requiredOr(BASE64URL_MESSAGE(64, 86)))
  .regex(/^[A-Za-z0-9_-]{86}$/, { message: BASE64URL_MESSAGE(64, 86) });

/** The digest of an advertisement set: `sha256:` and 64 lowercase hex characters. */
export const AdsDigestSchema = z.string(requiredOr("must be sha256: and 64 lowercase hex"))
  .regex(/^sha256:[0-9a-f]{64}$/, { message: "must be sha256: and 64 lowercase hex" });

/** Milliseconds since the Unix epoch. */
const TimestampSchema = z.number(requiredOr("must be whole milliseconds since the epoch"))
  .int({ message: "must be whole milliseconds since the epoch" })
  .min(0, { message: "must be whole milliseconds since the epoch" })
  .max(Number.MAX_SAFE_INTEGER, { message: "must be at most 2^53-1" });

/** A peer's base URL. */
const PeerUrlSchema = z.string(requiredOr("must be an http or https URL"))
  .max(2048, { message: "must be at most 2048 characters" })
  .refine((value) => /^https?:\/\/[^\s]+$/.test(value) && URL.canParse(value), {
    message: "must be an http or https URL",
  });

/** One public advertisement in a record. `peerId` and `isPublic` are implied: the owner, public. */
export const GossipAdvertisementSchema = z.strictObject({
  registerId: RegisterIdSchema,
  syncState: GossipSyncStateSchema,
  latestVersion: VersionSchema,
  latestDocketVersion: VersionSchema,
}, unknownFields("registerId, syncState, latestVersion, latestDocketVersion"))
  .openapi("GossipAdvertisement");

/** A record's signed header. */
export const RecordHeaderSchema = z.strictObject({
  peerId: GossipPeerIdSchema,
  url: PeerUrlSchema.openapi({ description: "How other peers reach the owner." }),
  publicKey: PublicKeySchema.openapi({ description: "The owner's Ed25519 public key." }),
  issuedAt: TimestampSchema.openapi({
    description:
      "When the owner issued this header (ms since the epoch); strictly increasing per owner. The advertisements' lease runs from here.",
  }),
  adsDigest: AdsDigestSchema.openapi({ description: "Digest of the advertisement set." }),
  adsCount: z.number(requiredOr("must be a whole number from 0")).int().min(0)
    .max(MAX_RECORD_ADVERTISEMENTS, {
      message: `must be at most ${MAX_RECORD_ADVERTISEMENTS}`,
    }),
  signature: SignatureSchema.openapi({
    description:
      "Ed25519 signature by publicKey over the header's signing text (see specs/gossip).",
  }),
}, unknownFields("peerId, url, publicKey, issuedAt, adsDigest, adsCount, signature"))
  .openapi("RecordHeader");

/** A record: its header, and its advertisements unless the receiver already holds that set. */
export const GossipRecordSchema = z.strictObject({
  header: RecordHeaderSchema,
  advertisements: z.array(GossipAdvertisementSchema, requiredOr("must be an array"))
    .max(MAX_RECORD_ADVERTISEMENTS, {
      message: `must hold at most ${MAX_RECORD_ADVERTISEMENTS} items`,
    })
    .optional()
    .openapi({
      description:
        "The complete set; absent when the receiver's digest shows it already holds a set with this adsDigest.",
    }),
}, unknownFields("header, advertisements")).openapi("GossipRecord");

/** What a peer holds of one owner's record. */
export const DigestEntrySchema = z.strictObject({
  peerId: GossipPeerIdSchema,
  issuedAt: TimestampSchema,
  adsDigest: AdsDigestSchema,
}, unknownFields("peerId, issuedAt, adsDigest")).openapi("DigestEntry");

/** A record the responder wants pushed, with the set it holds (so an unchanged set is not resent). */
export const WantedEntrySchema = z.strictObject({
  peerId: GossipPeerIdSchema,
  adsDigest: AdsDigestSchema.nullable(),
}, unknownFields("peerId, adsDigest")).openapi("WantedEntry");

const ProtocolSchema = z.literal(GOSSIP_PROTOCOL, {
  error: () => `must be ${GOSSIP_PROTOCOL} (the gossip protocol this peer speaks)`,
});

function recordsSchema() {
  return z.array(GossipRecordSchema, requiredOr("must be an array"))
    .max(MAX_MESSAGE_RECORDS, { message: `must hold at most ${MAX_MESSAGE_RECORDS} records` })
    .refine(
      (records) =>
        records.reduce((sum, record) => sum + (record.advertisements?.length ?? 0), 0) <=
          MAX_MESSAGE_ADVERTISEMENTS,
      { message: `must carry at most ${MAX_MESSAGE_ADVERTISEMENTS} advertisements in all` },
    );
}

/** `POST /api/gossip/exchange` body: who asks, and every record it holds. */
export const ExchangeRequestSchema = z.strictObject({
  protocol: ProtocolSchema,
  from: RecordHeaderSchema.openapi({ description: "The sender's own current header." }),
  digest: z.array(DigestEntrySchema, requiredOr("must be an array"))
    .max(MAX_MESSAGE_RECORDS, { message: `must hold at most ${MAX_MESSAGE_RECORDS} entries` })
    .openapi({ description: "Every record the sender holds, its own included." }),
}, unknownFields("protocol, from, digest")).openapi("ExchangeRequest");

/** `POST /api/gossip/exchange` answer: the records the sender lacks, and the ones wanted back. */
export const ExchangeResponseSchema = z.strictObject({
  protocol: ProtocolSchema,
  from: RecordHeaderSchema.openapi({ description: "The responder's own current header." }),
  records: recordsSchema().openapi({
    description: "Records newer than the sender's digest shows, the responder's own included.",
  }),
  wanted: z.array(WantedEntrySchema).max(MAX_MESSAGE_RECORDS).openapi({
    description: "Records the sender holds newer versions of; it pushes them next.",
  }),
}, unknownFields("protocol, from, records, wanted")).openapi("ExchangeResponse");

/** `POST /api/gossip/push` body: the records the responder wanted. */
export const PushRequestSchema = z.strictObject({
  protocol: ProtocolSchema,
  from: RecordHeaderSchema,
  records: recordsSchema(),
}, unknownFields("protocol, from, records")).openapi("PushRequest");

/** A challenge nonce: 32 random bytes, unpadded base64url. */
export const NonceSchema = z.string(requiredOr(BASE64URL_MESSAGE(32, 43)))
  .regex(/^[A-Za-z0-9_-]{43}$/, { message: BASE64URL_MESSAGE(32, 43) });

/** `GET /api/gossip/challenge` query: the challenger's fresh nonce. */
export const ChallengeRequestSchema = z.strictObject({
  nonce: NonceSchema.openapi({
    param: { name: "nonce", in: "query" },
    description: "32 random bytes (unpadded base64url), new for every challenge.",
  }),
}, unknownFields("nonce"));

/** `GET /api/gossip/challenge` answer: the responder's identity, signed together with the nonce. */
export const ChallengeResponseSchema = z.strictObject({
  protocol: ProtocolSchema,
  peerId: GossipPeerIdSchema.openapi({ description: "The responder's id." }),
  url: PeerUrlSchema.openapi({ description: "The responder's PUBLIC_URL, as in its record." }),
  publicKey: PublicKeySchema.openapi({ description: "The responder's record key." }),
  nonce: NonceSchema.openapi({ description: "The challenger's nonce, echoed." }),
  signature: SignatureSchema.openapi({
    description:
      "Ed25519 signature by publicKey over the challenge's signing text: sorcha-gossip-challenge-v1, nonce, peerId, url, publicKey, one per line (see specs/gossip).",
  }),
}, unknownFields("protocol, peerId, url, publicKey, nonce, signature"))
  .openapi("ChallengeResponse");

/** What taking records did. */
export const PushResponseSchema = z.object({
  accepted: z.number().int().openapi({ description: "Records newer than the held ones, applied." }),
  ignored: z.number().int().openapi({
    description: "Records not newer than the held ones, expired, or about this peer itself.",
  }),
  rejected: z.array(z.object({ peerId: z.string(), reason: z.string() })).openapi({
    description:
      "Records refused one by one (signed by another key than the one known for that id, issued in the future).",
  }),
}).openapi("PushResponse");

/** One known peer as `GET /api/peers` shows it. */
export const KnownPeerSchema = z.object({
  peerId: z.string().nullable().openapi({ description: "null for a seed not yet reached." }),
  url: z.string(),
  seed: z.boolean(),
  status: z.enum(["unknown", "ok", "failing"]).openapi({
    description:
      "unknown: never contacted; ok: the last contact succeeded; failing: the last ones failed.",
  }),
  failures: z.number().int().openapi({ description: "Contacts failed in a row." }),
  lastContactAt: z.string().nullable().openapi({
    description: "The last successful exchange, either direction.",
  }),
  lastError: z.string().nullable(),
  recordIssuedAt: z.string().nullable().openapi({
    description: "When the held record of this peer was issued.",
  }),
  advertisementCount: z.number().int().openapi({ description: "Public registers it advertises." }),
}).openapi("KnownPeer");

/** `GET /api/peers` answer. */
export const PeersResponseSchema = z.object({
  self: z.object({ peerId: z.string(), url: z.string(), publicKey: z.string() }),
  fanout: z.number().int(),
  intervalSeconds: z.number(),
  maxPeers: z.number().int(),
  peers: z.array(KnownPeerSchema),
  lastRound: z.object({
    at: z.string(),
    contacted: z.number().int(),
    succeeded: z.number().int(),
    messages: z.number().int(),
  }).nullable(),
}).openapi("PeersResponse");

/** `DELETE /api/peers/{peerId}` answer. */
export const ForgetPeerResponseSchema = z.object({
  peerId: z.string(),
  known: z.boolean().openapi({ description: "Whether the peer was known here." }),
  removedAdvertisements: z.number().int().openapi({
    description: "Its live advertisements removed from this node.",
  }),
}).openapi("ForgetPeerResponse");

/** A record header. */
export type RecordHeader = z.output<typeof RecordHeaderSchema>;
/** A record on the wire. */
export type GossipRecord = z.output<typeof GossipRecordSchema>;
/** One advertisement in a record. */
export type GossipAdvertisement = z.output<typeof GossipAdvertisementSchema>;
/** One digest entry. */
export type DigestEntry = z.output<typeof DigestEntrySchema>;
/** One wanted entry. */
export type WantedEntry = z.output<typeof WantedEntrySchema>;
/** Exchange body. */
export type ExchangeRequest = z.output<typeof ExchangeRequestSchema>;
/** Exchange answer. */
export type ExchangeResponse = z.output<typeof ExchangeResponseSchema>;
/** Push body. */
export type PushRequest = z.output<typeof PushRequestSchema>;
/** Push answer. */
export type PushResponse = z.output<typeof PushResponseSchema>;
/** One known peer. */
export type KnownPeer = z.output<typeof KnownPeerSchema>;
/** Peers answer. */
export type PeersResponse = z.output<typeof PeersResponseSchema>;
/** Forget answer. */
export type ForgetPeerResponse = z.output<typeof ForgetPeerResponseSchema>;
/** Challenge query. */
export type ChallengeRequest = z.output<typeof ChallengeRequestSchema>;
/** Challenge answer. */
export type ChallengeResponse = z.output<typeof ChallengeResponseSchema>;
