/**
 * One push-pull exchange with one member, as a gossip round runs it: prove
 * the member's URL, send this node's digest, take the records it answers
 * with, push the ones it wants, and note the outcome on the membership list.
 *
 * @module
 */
import type { Logger } from "@logtape/logtape";
import {
  type DigestEntry,
  GOSSIP_PROTOCOL,
  type PushResponse,
  type RecordHeader,
} from "../../shared/contracts/gossip.ts";
import { toAppError } from "../../shared/errors.ts";
import { shortenInput } from "../../shared/quote.ts";
import { failSpan, inSpan, type Span } from "../../shared/telemetry/mod.ts";
import type { Member, Membership } from "./membership.ts";
import type { GossipRecorder } from "./metrics.ts";
import { type RecordSources, selectRecords, wantedDigest } from "./record_selection.ts";
import type { GossipTransport } from "./transport.ts";
import type { UrlProofs } from "./url_proofs.ts";

/** What this node sends in every exchange of a round. */
export interface RoundMessage {
  /** This node's current header. */
  own: RecordHeader;
  /** The digest of the records this node holds. */
  digest: DigestEntry[];
}

/** What an exchange with a member works with. */
export interface MemberExchangeOptions extends RecordSources {
  /** The known peers. */
  membership: Membership;
  /** How messages travel. */
  transport: GossipTransport;
  /** The proofs of the URLs this node gossips with. */
  proofs: UrlProofs;
  /** Stops the requests at close. */
  signal: AbortSignal;
  /** Where the outcome is told. */
  logger: Logger;
  /** Counts failed exchanges (default: not counted). */
  recorder?: GossipRecorder;
}

/** What one exchange did. */
export interface ExchangeOutcome {
  /** Whether it succeeded. */
  ok: boolean;
  /** Requests sent. */
  messages: number;
}

/**
 * Runs one exchange with `member` in a `peer.gossip.exchange` span (its attributes: the
 * member's `sorcha.peer.url`, `sorcha.peer.id` once known, and `sorcha.gossip.outcome`: `ok`,
 * `failed` or `aborted`); see
 * the module documentation. Never throws.
 */
export function exchangeWithMember(
  member: Member,
  round: RoundMessage,
  options: MemberExchangeOptions,
): Promise<ExchangeOutcome> {
  return inSpan(
    "peer.gossip.exchange",
    (span) => exchangeOnce(member, { ...options, round, span }),
    {
      attributes: {
        "sorcha.peer.url": member.url,
        ...(member.peerId === undefined ? {} : { "sorcha.peer.id": member.peerId }),
      },
    },
  );
}

async function exchangeOnce(
  member: Member,
  options: MemberExchangeOptions & { round: RoundMessage; span: Span },
): Promise<ExchangeOutcome> {
  const { own, digest } = options.round;
  const { book, membership, transport, logger, signal, span } = options;
  let messages = 0;
  // The transport bounds each request's time; the signal stops them at close.
  const action = `Cannot gossip with ${member.peerId ?? "seed"} at ${shortenInput(member.url)}`;
  try {
    await options.proofs.prove(member, signal);
    messages++;
    const answer = await transport.exchange(member.url, {
      protocol: GOSSIP_PROTOCOL,
      from: own,
      digest,
    }, signal);
    await book.checkSender(answer.from, action);
    const records = answer.records.some((record) => record.header.peerId === answer.from.peerId)
      ? answer.records
      : [{ header: answer.from }, ...answer.records];
    const taken = await book.take(records, action);
    logRejected(taken.rejected, { from: answer.from.peerId, logger });
    const firstContact = member.lastContactAt === undefined || member.failures > 0;
    membership.reached(answer.from, member);
    if (firstContact) {
      logger.info("Gossiping with peer {peerId} at {url}", {
        peerId: answer.from.peerId,
        url: answer.from.url,
      });
    }
    if (answer.wanted.length > 0) {
      const pushed = selectRecords(own, wantedDigest(answer.wanted), {
        ...options,
        listedOnly: true,
      });
      if (pushed.length > 0) {
        messages++;
        await transport.push(member.url, {
          protocol: GOSSIP_PROTOCOL,
          from: own,
          records: pushed,
        }, signal);
      }
    }
    logger.debug("Gossiped with {peerId} at {url}: took {accepted}", {
      peerId: answer.from.peerId,
      url: member.url,
      accepted: taken.accepted,
    });
    span.setAttributes({ "sorcha.peer.id": answer.from.peerId, "sorcha.gossip.outcome": "ok" });
    return { ok: true, messages };
  } catch (error) {
    if (signal.aborted) {
      span.setAttribute("sorcha.gossip.outcome", "aborted");
      return { ok: false, messages };
    }
    span.setAttribute("sorcha.gossip.outcome", "failed");
    failSpan(span, error);
    options.recorder?.exchangeFailed();
    options.proofs.forget(member);
    noteFailure(member, toAppError(error).message, options);
    return { ok: false, messages };
  }
}

/** Logs the records refused in a message from peer `from`. */
export function logRejected(
  rejected: PushResponse["rejected"],
  options: { from: string; logger: Logger },
): void {
  for (const { peerId, reason } of rejected) {
    options.logger.warning("Refused the record of peer {peerId} relayed by {from}: {reason}", {
      peerId,
      from: options.from,
      reason,
    });
  }
}

function noteFailure(
  member: Member,
  message: string,
  options: { membership: Membership; logger: Logger },
): void {
  const { membership, logger } = options;
  const wasOk = member.failures === 0 && member.lastContactAt !== undefined;
  membership.failed(member, message);
  const dropped = !membership.members.includes(member);
  if (dropped) {
    logger.warning(
      "Dropped peer {peerId} at {url} after {failures} failed contacts: {error}",
      {
        peerId: member.peerId ?? "(seed)",
        url: member.url,
        failures: member.failures,
        error: message,
      },
    );
  } else if (wasOk) {
    logger.warning("Peer {peerId} at {url} stopped answering: {error}", {
      peerId: member.peerId ?? "(seed)",
      url: member.url,
      error: message,
    });
  } else logger.debug("{error}", { error: message });
}
