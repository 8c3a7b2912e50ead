/**
 * The gossip simulation: 200 real peers (registry, membership, gossiper,
 * HTTP app) in one process, talking through the real HTTP transport routed
 * in memory, on one manual clock. A new public advertisement reaches every
 * peer, so does its withdrawal, private advertisements stay home, and each
 * peer sends at most two messages per contact. The figures (rounds, messages)
 * are printed; their targets are checked by `deno task bench gossip`.
 *
 * Also, on smaller networks: with the default lease, renewals keep a
 * register listed on every peer until its owner goes down, then it leaves
 * when its last header's lease ends; and the records a peer relays always
 * match their headers, even while a new set is being written or after its
 * entries outlived a header issued ahead of this peer's clock.
 */
import assert from "node:assert/strict";
import type { RemoteItem } from "../../peer/advertisements/mod.ts";
import { advertisementsDigest, DEFAULT_FANOUT, PeerSigner } from "../../peer/gossip/mod.ts";
import type { StoreBatch } from "../../peer/store/types.ts";
import { GOSSIP_PROTOCOL, type GossipRecord } from "../../shared/contracts/gossip.ts";
import { createGossipNetwork, lists, type SimPeer } from "../fixtures/gossip_network.ts";
import { rid } from "./helpers.ts";

const SIZE = 200;
const MAX_ROUNDS = 20;
/**
 * A lease of 75 minutes (TTL 1 h plus the default grace of a quarter): an
 * owner then re-issues its unchanged header every 18.75 min, about every 37
 * rounds of 30 s, so no header is renewed during the ~15 rounds this test
 * runs. With the default lease (375 s, a renewal every fourth round) all 200
 * peers re-issue in the same round (they started together), and such a round
 * makes every peer verify 199 new signatures and hash 199 sets: 4 to 6 s of
 * CPU here instead of about 1 s, which would double the test's time. How a
 * changed set spreads does not depend on the lease (a changed set is
 * re-issued at once); renewals are tested on a smaller network below.
 */
const TTL_MS = 3_600_000;

function remote(registerId: string): RemoteItem {
  return { registerId, syncState: "Active", latestVersion: 0, latestDocketVersion: 0 };
}

function others(peers: readonly SimPeer[], owner: SimPeer): SimPeer[] {
  return peers.filter((peer) => peer !== owner);
}

Deno.test("200 gossiping peers spread a new advertisement and its withdrawal to every peer", async (t) => {
  const began = performance.now();
  // One common seed (GOSSIP_SEEDS naming one well-known peer) settles faster than three random
  // ones each; the spread measured afterwards does not depend on how the peers met.
  await using network = await createGossipNetwork({
    size: SIZE,
    ttlMs: TTL_MS,
    seedsPerPeer: 0,
    seed: 2026,
  });
  const [owner, neighbour] = [network.peers[17]!, network.peers[101]!];
  const shared = rid(0xa1);
  const ownersPrivate = rid(0xb2);
  const neighboursPrivate = rid(0xc3);

  await t.step("every peer learns every other one from one common seed", async () => {
    const rounds = await network.warmUp(MAX_ROUNDS);
    console.log(`membership of ${SIZE} peers settled in ${rounds} rounds`);
    for (const peer of network.peers) {
      assert.equal(peer.membership.members.length, SIZE - 1);
      assert.equal(peer.gossiper.records.headers().length, SIZE - 1);
    }
    assert.equal(network.messages.failed, 0);
  });

  await t.step(
    "a new public advertisement reaches every peer; private ones stay home",
    async () => {
      await owner.registry.advertise(shared, { isPublic: true, latestVersion: 3 });
      await owner.registry.advertise(ownersPrivate, { isPublic: false });
      await neighbour.registry.advertise(neighboursPrivate, { isPublic: false });
      const spread = await network.spread((peer) => lists(peer, shared), {
        watched: others(network.peers, owner),
        maxRounds: MAX_ROUNDS,
      });
      console.log(
        `advertisement: 99% of peers in ${spread.roundsTo99} rounds, all in ${spread.roundsToAll}` +
          ` (holding per round: ${spread.holding.join(", ")}); ` +
          `${spread.messagesPerPeerPerRound.toFixed(2)} messages per peer per round`,
      );
      assert.ok(spread.roundsToAll !== undefined, `not spread in ${MAX_ROUNDS} rounds`);
      assert.ok(spread.messagesPerPeerPerRound <= 2 * DEFAULT_FANOUT);
      assert.equal(spread.messages.failed, 0);
      for (const peer of others(network.peers, owner)) {
        assert.deepEqual(peer.registry.remoteItems(owner.peerId), [
          { ...remote(shared), latestVersion: 3 },
        ]);
        const info = peer.registry.available().find((r) => r.registerId === shared);
        assert.equal(info?.peerCount, 1);
        assert.equal(info?.isLocal, false);
      }
      for (const peer of network.peers) {
        assert.deepEqual(peer.registry.remoteItems(neighbour.peerId), []);
        const ids = peer.registry.available().map((r) => r.registerId);
        assert.ok(!ids.includes(ownersPrivate) && !ids.includes(neighboursPrivate));
      }
    },
  );

  await t.step("the withdrawal reaches every peer", async () => {
    await owner.registry.withdraw(shared);
    const spread = await network.spread((peer) => !lists(peer, shared), {
      watched: others(network.peers, owner),
      maxRounds: MAX_ROUNDS,
    });
    console.log(
      `withdrawal: 99% of peers in ${spread.roundsTo99} rounds, all in ${spread.roundsToAll}; ` +
        `${spread.messagesPerPeerPerRound.toFixed(2)} messages per peer per round`,
    );
    assert.ok(spread.roundsToAll !== undefined, `withdrawal not spread in ${MAX_ROUNDS} rounds`);
    assert.ok(spread.messagesPerPeerPerRound <= 2 * DEFAULT_FANOUT);
    assert.equal(spread.messages.failed, 0);
    for (const peer of network.peers) assert.deepEqual(peer.registry.remoteItems(owner.peerId), []);
  });

  console.log(`simulation took ${((performance.now() - began) / 1000).toFixed(1)} s`);
});

Deno.test("with the default lease, renewals keep a register listed everywhere until its owner goes down", async () => {
  // 30 peers, default TTL (300 s) and grace (75 s): owners re-issue their
  // headers every 93.75 s, about every fourth round of 30 s.
  await using network = await createGossipNetwork({ size: 30, seedsPerPeer: 0, seed: 7 });
  await network.warmUp();
  const owner = network.peers[3]!;
  const watched = others(network.peers, owner);
  const registerId = rid(0xd4);
  // The owner's register service re-advertises it every 2 minutes (within its 300 s TTL).
  const readvertise = () => owner.registry.advertise(registerId, { isPublic: true });
  await readvertise();
  const spread = await network.spread((peer) => lists(peer, registerId), {
    watched,
    maxRounds: MAX_ROUNDS,
  });
  assert.ok(spread.roundsToAll !== undefined);
  // 26 rounds: 13 minutes, more than two leases.
  for (let round = 1; round <= 26; round++) {
    if (round % 4 === 0) await readvertise();
    await network.round();
    assert.equal(watched.filter((peer) => lists(peer, registerId)).length, watched.length);
  }
  assert.equal(network.messages.failed, 0);
  // Down: the lease of its last header (375 s from when it was issued) runs out everywhere.
  owner.reachable = false;
  const held = watched.map((peer) => peer.gossiper.records.get(owner.peerId)!.issuedAt);
  while (network.clock.now() < Math.min(...held) + 375_000) {
    assert.ok(watched.every((peer) => lists(peer, registerId)));
    await network.round();
  }
  while (network.clock.now() < Math.max(...held) + 375_000) await network.round();
  assert.ok(watched.every((peer) => !lists(peer, registerId)));
});

/** Whether every set in `records` matches its header's count and digest. */
async function matchHeaders(records: readonly GossipRecord[]): Promise<boolean> {
  for (const record of records) {
    const ads = record.advertisements;
    if (ads === undefined) continue;
    if (ads.length !== record.header.adsCount) return false;
    if ((await advertisementsDigest(ads)) !== record.header.adsDigest) return false;
  }
  return true;
}

/** A hold on a peer's store writes of changed values. */
interface WriteHold {
  /** Resolves once a write is being held. */
  held: Promise<void>;
  /** Lets the held writes (and the later ones) through. */
  release(): void;
}

/** Holds `peer`'s store writes of changed values until released. */
function holdValueWrites(peer: SimPeer): WriteHold {
  const gate = Promise.withResolvers<void>();
  const held = Promise.withResolvers<void>();
  const write = peer.store.write.bind(peer.store);
  peer.store.write = async (batch: StoreBatch) => {
    if (batch.put.some((item) => item.valueChanged)) {
      held.resolve();
      await gate.promise;
    }
    return await write(batch);
  };
  return { held: held.promise, release: () => gate.resolve() };
}

/**
 * Watches the messages whose records `peer` takes: `next()` resolves once the
 * next one is checked and queued to be applied, after those queued before it.
 */
function watchRecordQueue(peer: SimPeer): { next(): Promise<void> } {
  const book = peer.gossiper.records;
  let queued = Promise.withResolvers<void>();
  book.take = async (records, action) => {
    const applied = book.apply(await book.check(records, action));
    const done = queued;
    queued = Promise.withResolvers<void>();
    done.resolve();
    return await applied;
  };
  return { next: () => queued.promise };
}

async function recordOf(peer: SimPeer): Promise<GossipRecord> {
  return {
    header: await peer.gossiper.ownHeader(),
    advertisements: peer.registry.publicLocal(),
  };
}

Deno.test("a record whose new set is still being written is not relayed with its previous header", async () => {
  await using network = await createGossipNetwork({ size: 4, fanout: 3, seedsPerPeer: 3 });
  await network.warmUp();
  const [a, b, c, d] = network.peers as [SimPeer, SimPeer, SimPeer, SimPeer];
  await c.registry.advertise(rid(1), { isPublic: true });
  await d.registry.advertise(rid(2), { isPublic: true });
  const queue = watchRecordQueue(b);
  // b's first write (d's new set) is held, so what follows queues behind it.
  const firstHold = holdValueWrites(b);
  const first = b.gossiper.push({
    protocol: GOSSIP_PROTOCOL,
    from: (await recordOf(d)).header,
    records: [await recordOf(d)],
  });
  await firstHold.held;
  // An exchange from a (which holds nothing), then c's new set, queued in that order.
  let queued = queue.next();
  const exchange = b.gossiper.exchange({
    protocol: GOSSIP_PROTOCOL,
    from: await a.gossiper.ownHeader(),
    digest: [],
  });
  await queued;
  queued = queue.next();
  const second = b.gossiper.push({
    protocol: GOSSIP_PROTOCOL,
    from: (await recordOf(c)).header,
    records: [await recordOf(c)],
  });
  await queued;
  // Once released, c's set reaches b's registry and waits on the store while
  // the exchange is answered: c's record must not go out as its old header
  // with its new set.
  const secondHold = holdValueWrites(b);
  firstHold.release();
  const answer = await exchange;
  assert.ok(b.gossiper.records.applying(c.peerId), "c's set was still being written");
  secondHold.release();
  await Promise.all([first, second]);
  assert.ok(await matchHeaders(answer.records), JSON.stringify(answer.records, null, 1));
  const taken = await a.gossiper.records.take(answer.records, "a takes b's answer");
  assert.deepEqual(taken.rejected, []);
});

Deno.test("a record whose entries outlived it is not relayed (its owner's clock runs ahead)", async () => {
  await using network = await createGossipNetwork({ size: 2, fanout: 1, seedsPerPeer: 1 });
  await network.warmUp();
  const [a, b] = network.peers as [SimPeer, SimPeer];
  const signer = await PeerSigner.generate();
  const items = [remote(rid(7))];
  const leaseMs = 375_000;
  const header = await signer.sign({
    peerId: "fast-clock",
    url: "http://fast-clock.sim",
    publicKey: signer.publicKey,
    issuedAt: network.clock.now() + 60_000,
    adsDigest: await advertisementsDigest(items),
    adsCount: items.length,
  });
  const pushed = await b.gossiper.push({
    protocol: GOSSIP_PROTOCOL,
    from: header,
    records: [{ header, advertisements: items }],
  });
  assert.equal(pushed.accepted, 1);
  // Its entries' lease ran from b's "now"; its header lives a minute longer.
  network.clock.advance(leaseMs + 30_000);
  assert.ok(b.gossiper.records.headers().some((held) => held.peerId === "fast-clock"));
  assert.deepEqual(b.registry.remoteItems("fast-clock"), []);
  const answer = await b.gossiper.exchange({
    protocol: GOSSIP_PROTOCOL,
    from: await a.gossiper.ownHeader(),
    digest: [],
  });
  assert.ok(await matchHeaders(answer.records));
  assert.ok(!answer.records.some((record) => record.header.peerId === "fast-clock"));
});
