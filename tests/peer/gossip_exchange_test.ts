/**
 * The gossip exchange between in-process peers: what travels, what is
 * taken, and what is refused.
 */
import assert from "node:assert/strict";
import {
  advertisementsDigest,
  type PeerSigner,
  PeerSigner as Signer,
} from "../../peer/gossip/signing.ts";
import type {
  GossipAdvertisement,
  GossipRecord,
  RecordHeader,
} from "../../shared/contracts/gossip.ts";
import { createTestNetwork } from "./gossip_helpers.ts";
import { rid } from "./helpers.ts";
import { until } from "../fixtures/wait.ts";

const TOKEN = "net-secret";
const auth = { authorization: `Bearer ${TOKEN}` };

function ad(n: number, fields: Partial<GossipAdvertisement> = {}): GossipAdvertisement {
  return {
    registerId: rid(n),
    syncState: "Active",
    latestVersion: 0,
    latestDocketVersion: 0,
    ...fields,
  };
}

/** A record signed by `signer`, claiming whatever id it is told to. */
async function record(
  signer: PeerSigner,
  fields: { peerId: string; url?: string; issuedAt: number; ads: GossipAdvertisement[] },
): Promise<{ header: RecordHeader; advertisements: GossipAdvertisement[] }> {
  const header = await signer.sign({
    peerId: fields.peerId,
    url: fields.url ?? `http://${fields.peerId}.test`,
    publicKey: signer.publicKey,
    issuedAt: fields.issuedAt,
    adsDigest: await advertisementsDigest(fields.ads),
    adsCount: fields.ads.length,
  });
  return { header, advertisements: fields.ads };
}

async function advertise(
  peer: { call: (m: string, p: string, b?: unknown) => Promise<{ status: number }> },
  n: number,
  body: { isPublic: boolean; latestVersion?: number },
) {
  const answer = await peer.call("POST", `/api/registers/${rid(n)}/advertise`, body);
  assert.equal(answer.status, 200);
}

Deno.test("one round shows a peer's public registers on the other side, never its private ones", async () => {
  await using network = createTestNetwork({ networkToken: TOKEN });
  const alpha = await network.add("alpha", { seeds: ["bravo"] });
  const bravo = await network.add("bravo");
  await advertise(alpha, 1, { isPublic: true, latestVersion: 7 });
  await advertise(alpha, 2, { isPublic: false });
  await advertise(bravo, 3, { isPublic: true });

  const round = await alpha.gossiper.round();
  assert.deepEqual({ contacted: round.contacted, succeeded: round.succeeded }, {
    contacted: 1,
    succeeded: 1,
  });

  const onBravo = bravo.registry.available();
  assert.deepEqual(onBravo.map((info) => [info.registerId, info.peerCount, info.isLocal]), [
    [rid(1), 1, false],
    [rid(3), 0, true],
  ]);
  assert.equal(onBravo[0]!.latestVersion, 7);
  assert.deepEqual(alpha.availableIds(), [rid(1), rid(3)], "pull: bravo's register came back");
  for (const message of network.sent) {
    assert.ok(!message.body.includes(rid(2)), `the private register travelled in ${message.path}`);
  }
  assert.ok(![...bravo.store.entries.keys()].some((key) => key.includes(rid(2))));
  assert.ok(bravo.store.entries.has(`peer:advert:remote:alpha:${rid(1)}`));
});

Deno.test("a register the owner withdraws leaves the other peers at the next exchange", async () => {
  await using network = createTestNetwork();
  const alpha = await network.add("alpha", { seeds: ["bravo"] });
  const bravo = await network.add("bravo");
  await advertise(alpha, 1, { isPublic: true });
  await advertise(alpha, 2, { isPublic: true });
  await alpha.gossiper.round();
  assert.deepEqual(bravo.availableIds(), [rid(1), rid(2)]);

  await alpha.call("DELETE", `/api/registers/${rid(1)}/advertise`);
  await advertise(alpha, 2, { isPublic: false });
  network.clock.advance(network.intervalMs);
  await bravo.gossiper.round();
  assert.deepEqual(bravo.availableIds(), []);
  assert.deepEqual([...bravo.store.entries.keys()].filter((k) => k.includes(":remote:")), []);
});

Deno.test("records are relayed: a peer learns registers and peers it never contacted", async () => {
  await using network = createTestNetwork();
  const alpha = await network.add("alpha", { seeds: ["bravo"] });
  const bravo = await network.add("bravo");
  const charlie = await network.add("charlie", { seeds: ["bravo"] });
  await advertise(alpha, 1, { isPublic: true, latestVersion: 2 });
  await alpha.gossiper.round();
  assert.deepEqual(bravo.availableIds(), [rid(1)]);
  await charlie.gossiper.round();

  assert.deepEqual(
    charlie.registry.available().map((info) => [info.registerId, info.peerCount]),
    [[rid(1), 1]],
  );
  assert.deepEqual(charlie.registry.remoteItems("alpha").map((item) => item.latestVersion), [2]);
  assert.ok(charlie.membership.get("alpha"), "charlie learned alpha from its relayed record");
  assert.equal(charlie.membership.get("alpha")!.url, "http://alpha.test");
  assert.equal(network.sent.filter((m) => m.to === "alpha").length, 0);
});

Deno.test("the push sends back what the responder wanted, and an unchanged set only renews", async () => {
  await using network = createTestNetwork();
  const alpha = await network.add("alpha", { seeds: ["bravo"] });
  const bravo = await network.add("bravo");
  const charlie = await network.add("charlie", { seeds: ["alpha"] });
  await advertise(charlie, 5, { isPublic: true });
  await charlie.gossiper.round(); // alpha now holds charlie's record
  network.sent.length = 0;
  await alpha.gossiper.round(); // bravo wants charlie's record: pushed
  assert.deepEqual(network.sent.filter((m) => m.to === "bravo").map((m) => m.path), [
    "/api/gossip/exchange",
    "/api/gossip/push",
  ]);
  assert.deepEqual(bravo.availableIds(), [rid(5)]);

  network.sent.length = 0;
  network.clock.advance(network.leaseMs / 2); // owners re-issue their headers; sets unchanged
  await charlie.gossiper.round();
  await alpha.gossiper.round();
  const push = network.sent.find((m) => m.path === "/api/gossip/push" && m.to === "bravo");
  assert.ok(push, "alpha pushed charlie's newer header to bravo");
  assert.ok(!push.body.includes("advertisements"), "the unchanged set was not sent again");
  const lease = bravo.store.entries.get(`peer:advert:remote:charlie:${rid(5)}`)!.expiresAt;
  assert.ok(lease > network.clock.now() + network.leaseMs / 2, "the lease was renewed");
});

Deno.test("exchanges need NETWORK_TOKEN when it is set, and never API_TOKEN", async () => {
  await using network = createTestNetwork({ networkToken: TOKEN });
  const bravo = await network.add("bravo", { apiToken: "api-secret" });
  const rogue = await Signer.generate();
  const body = {
    protocol: 1,
    from: (await record(rogue, { peerId: "mallory", issuedAt: network.clock.now(), ads: [] }))
      .header,
    digest: [],
  };
  const missing = await bravo.call("POST", "/api/gossip/exchange", body);
  assert.equal(missing.status, 401);
  assert.match(missing.body.error.message, /Authorization: Bearer <NETWORK_TOKEN>/);
  const wrong = await bravo.call("POST", "/api/gossip/exchange", body, {
    authorization: "Bearer api-secret",
  });
  assert.equal(wrong.status, 403);
  const right = await bravo.call("POST", "/api/gossip/exchange", body, auth);
  assert.equal(right.status, 200);
  assert.equal(right.body.from.peerId, "bravo");

  assert.equal((await bravo.call("DELETE", "/api/peers/mallory", undefined, auth)).status, 403);
  const forgotten = await bravo.call("DELETE", "/api/peers/mallory", undefined, {
    authorization: "Bearer api-secret",
  });
  assert.deepEqual(forgotten.body, { peerId: "mallory", known: true, removedAdvertisements: 0 });
});

Deno.test("a peer cannot overwrite another peer's advertisements by claiming its id", async () => {
  await using network = createTestNetwork();
  const alpha = await network.add("alpha", { seeds: ["bravo"] });
  const bravo = await network.add("bravo");
  await advertise(alpha, 1, { isPublic: true, latestVersion: 3 });
  await alpha.gossiper.round();
  const before = JSON.stringify(bravo.registry.available());

  const mallory = await Signer.generate();
  const later = network.clock.now() + 1_000;
  network.clock.advance(2_000);
  const claim = await record(mallory, { peerId: "alpha", issuedAt: later, ads: [ad(9)] });

  // As the sender of an exchange or a push: refused outright.
  const exchange = await bravo.call("POST", "/api/gossip/exchange", {
    protocol: 1,
    from: claim.header,
    digest: [],
  });
  assert.equal(exchange.status, 403);
  assert.match(exchange.body.error.message, /peer id "alpha" is already known here with another/);
  const push = await bravo.call("POST", "/api/gossip/push", {
    protocol: 1,
    from: claim.header,
    records: [claim],
  });
  assert.equal(push.status, 403);

  // Relayed by a sender speaking for itself: that record alone is refused.
  const own = await record(mallory, { peerId: "mallory", issuedAt: later, ads: [] });
  const relayed = await bravo.call("POST", "/api/gossip/push", {
    protocol: 1,
    from: own.header,
    records: [own, claim],
  });
  assert.equal(relayed.status, 200);
  assert.equal(relayed.body.accepted, 1);
  assert.deepEqual(relayed.body.rejected.map((r: { peerId: string }) => r.peerId), ["alpha"]);

  // Claiming the receiver's own id is refused too.
  const selfClaim = await record(mallory, { peerId: "bravo", issuedAt: later, ads: [] });
  const self = await bravo.call("POST", "/api/gossip/exchange", {
    protocol: 1,
    from: selfClaim.header,
    digest: [],
  });
  assert.equal(self.status, 403);

  assert.equal(JSON.stringify(bravo.registry.available()), before);
  assert.ok(!bravo.store.entries.has(`peer:advert:remote:alpha:${rid(9)}`));
});

Deno.test("a record whose set or fields do not match its signature is a 400 and nothing is taken", async () => {
  await using network = createTestNetwork();
  const bravo = await network.add("bravo");
  const alice = await Signer.generate();
  const sender = await record(alice, {
    peerId: "alice",
    issuedAt: network.clock.now(),
    ads: [ad(1)],
  });
  const other = await Signer.generate();
  const good = await record(other, { peerId: "olga", issuedAt: network.clock.now(), ads: [ad(2)] });
  const cases: [string, unknown, RegExp][] = [
    [
      "a set changed after signing",
      { ...good, advertisements: [ad(2, { latestVersion: 5 })] },
      /records\[1\] \(peer "olga"\): the advertisements do not match header.adsDigest/,
    ],
    [
      "a header field changed after signing",
      { ...good, header: { ...good.header, url: "http://elsewhere.test" } },
      /records\[1\] \(peer "olga"\): header.signature does not verify/,
    ],
    [
      "a set of another size than adsCount",
      { ...good, advertisements: [] },
      /carries 0 advertisements but header.adsCount is 1/,
    ],
  ];
  for (const [what, bad, message] of cases) {
    const answer = await bravo.call("POST", "/api/gossip/push", {
      protocol: 1,
      from: sender.header,
      records: [sender, bad],
    });
    assert.equal(answer.status, 400, what);
    assert.match(answer.body.error.message, message, what);
  }
  const tamperedSender = await bravo.call("POST", "/api/gossip/exchange", {
    protocol: 1,
    from: { ...sender.header, issuedAt: sender.header.issuedAt + 1 },
    digest: [],
  });
  assert.equal(tamperedSender.status, 400);
  assert.match(tamperedSender.body.error.message, /from.signature does not verify/);
  assert.deepEqual(bravo.registry.available(), []);
  assert.equal(bravo.store.entries.size, 0);
});

Deno.test("malformed gossip messages get a 400 naming the problem and change nothing", async () => {
  await using network = createTestNetwork();
  const bravo = await network.add("bravo");
  const alice = await Signer.generate();
  const sender = await record(alice, { peerId: "alice", issuedAt: network.clock.now(), ads: [] });
  const cases: [string, string, unknown, RegExp][] = [
    ["/api/gossip/exchange", "no body fields", {}, /protocol must be 1.*from is required/],
    [
      "/api/gossip/exchange",
      "another protocol",
      { protocol: 2, from: sender.header, digest: [] },
      /protocol must be 1/,
    ],
    [
      "/api/gossip/exchange",
      "an unknown field",
      { protocol: 1, from: sender.header, digest: [], peers: [] },
      /unknown field "peers"/,
    ],
    [
      "/api/gossip/exchange",
      "a bad peer id",
      { protocol: 1, from: { ...sender.header, peerId: "no spaces" }, digest: [] },
      /from.peerId must be 1 to 64/,
    ],
    [
      "/api/gossip/exchange",
      "a bad digest entry",
      { protocol: 1, from: sender.header, digest: [{ peerId: "x", issuedAt: -1, adsDigest: "" }] },
      /digest\[0\].issuedAt/,
    ],
    [
      "/api/gossip/exchange",
      "a repeated digest entry",
      {
        protocol: 1,
        from: sender.header,
        digest: [
          { peerId: "x", issuedAt: 1, adsDigest: sender.header.adsDigest },
          { peerId: "x", issuedAt: 2, adsDigest: sender.header.adsDigest },
        ],
      },
      /digest lists peer "x" twice/,
    ],
    [
      "/api/gossip/exchange",
      "too many digest entries",
      {
        protocol: 1,
        from: sender.header,
        digest: Array.from({ length: 4097 }, (_, i) => ({
          peerId: `p${i}`,
          issuedAt: 1,
          adsDigest: sender.header.adsDigest,
        })),
      },
      /digest must hold at most 4096 entries/,
    ],
    [
      "/api/gossip/push",
      "an advertisement claiming another owner",
      {
        protocol: 1,
        from: sender.header,
        records: [{ header: sender.header, advertisements: [{ ...ad(1), peerId: "zed" }] }],
      },
      /unknown field "peerId"/,
    ],
    [
      "/api/gossip/push",
      "a bad register id",
      {
        protocol: 1,
        from: sender.header,
        records: [{ header: sender.header, advertisements: [ad(1, { registerId: "xyz" })] }],
      },
      /records\[0\].advertisements\[0\].registerId must be 32 hex characters/,
    ],
    [
      "/api/gossip/push",
      "a record listed twice",
      {
        protocol: 1,
        from: sender.header,
        records: [{ header: sender.header }, { header: sender.header }],
      },
      /repeats a record of the same peer/,
    ],
    ["/api/gossip/push", "text that is not JSON", "{nope", /./],
  ];
  for (const [path, what, body, message] of cases) {
    const answer = await bravo.call("POST", path, body);
    assert.equal(answer.status, 400, `${what}: ${JSON.stringify(answer.body)}`);
    assert.match(answer.body.error.message, message, what);
  }
  assert.equal(bravo.store.entries.size, 0);
  assert.equal(bravo.membership.members.length, 0);
});

Deno.test("older, expired and future records are not taken; a newer one replaces the set", async () => {
  await using network = createTestNetwork();
  const bravo = await network.add("bravo");
  const olga = await Signer.generate();
  const now = network.clock.now();
  const push = async (records: GossipRecord[]) =>
    (await bravo.call("POST", "/api/gossip/push", {
      protocol: 1,
      from: records[0]!.header,
      records,
    })).body;

  const first = await record(olga, { peerId: "olga", issuedAt: now, ads: [ad(1)] });
  assert.equal((await push([first])).accepted, 1);
  const older = await record(olga, { peerId: "olga", issuedAt: now - 1, ads: [ad(2)] });
  assert.deepEqual(await push([older]), { accepted: 0, ignored: 1, rejected: [] });
  assert.deepEqual(bravo.availableIds(), [rid(1)]);

  const newer = await record(olga, { peerId: "olga", issuedAt: now + 1, ads: [ad(3)] });
  assert.equal((await push([newer])).accepted, 1);
  assert.deepEqual(bravo.availableIds(), [rid(3)], "the newer set replaced the old one");

  const ivan = await Signer.generate();
  const expired = await record(ivan, {
    peerId: "ivan",
    issuedAt: now - network.leaseMs,
    ads: [ad(4)],
  });
  const future = await record(ivan, {
    peerId: "ivan",
    issuedAt: now + 10 * 60_000,
    ads: [ad(5)],
  });
  const fromOlga = await record(olga, { peerId: "olga", issuedAt: now + 2, ads: [ad(3)] });
  const answer = await push([fromOlga, expired]);
  assert.equal(answer.ignored, 1);
  const ahead = await push([fromOlga, future]);
  assert.match(ahead.rejected[0].reason, /issued 600 s in the future/);
  assert.deepEqual(bravo.availableIds(), [rid(3)]);
});

Deno.test("a relayed header gives no extra time: the lease runs from when its owner issued it", async () => {
  await using network = createTestNetwork();
  const bravo = await network.add("bravo");
  const olga = await Signer.generate();
  const issuedAt = network.clock.now();
  const olgas = await record(olga, { peerId: "olga", issuedAt, ads: [ad(1)] });
  network.clock.advance(network.leaseMs - 1_000);
  const answer = await bravo.call("POST", "/api/gossip/push", {
    protocol: 1,
    from: olgas.header,
    records: [olgas],
  });
  assert.equal(answer.body.accepted, 1);
  assert.equal(
    bravo.store.entries.get(`peer:advert:remote:olga:${rid(1)}`)!.expiresAt,
    issuedAt + network.leaseMs,
  );
  network.clock.advance(1_000);
  assert.deepEqual(bravo.availableIds(), []);
});

Deno.test("a peer that stops answering keeps its registers until their lease ends, and is dropped after repeated failures", async () => {
  await using network = createTestNetwork();
  const alpha = await network.add("alpha", { seeds: ["bravo"] });
  const bravo = await network.add("bravo", { membership: { maxFailures: 3 } });
  await advertise(alpha, 1, { isPublic: true });
  await alpha.gossiper.round();
  await alpha.close();

  for (let round = 1; round <= 3; round++) {
    network.clock.advance(network.intervalMs);
    const result = await bravo.gossiper.round();
    assert.equal(result.succeeded, 0);
    assert.deepEqual(bravo.availableIds(), [rid(1)], `still shown after ${round} failed rounds`);
    if (round < 3) {
      const peers = (await bravo.call("GET", "/api/peers")).body.peers;
      assert.equal(peers[0].status, "failing");
      assert.equal(peers[0].failures, round);
      assert.match(peers[0].lastError, /cannot reach the peer at http:\/\/alpha\.test/);
    }
  }
  assert.equal(bravo.membership.get("alpha"), undefined, "dropped after 3 failures in a row");
  network.clock.advance(network.leaseMs);
  assert.deepEqual(bravo.availableIds(), [], "gone once the lease passed");
});

Deno.test("seeds are never dropped, and a seed pointing back at the peer itself is harmless", async () => {
  await using network = createTestNetwork();
  const alpha = await network.add("alpha", {
    seeds: ["ghost", "alpha"],
    membership: { maxFailures: 2 },
  });
  assert.deepEqual(alpha.membership.members.map((m) => m.url), ["http://ghost.test"]);
  for (let round = 0; round < 4; round++) await alpha.gossiper.round();
  assert.equal(alpha.membership.members[0]!.failures, 4);
  assert.equal(alpha.membership.members[0]!.seed, true);
});

Deno.test("GET /api/peers shows this node, its known peers and the last round", async () => {
  await using network = createTestNetwork();
  const alpha = await network.add("alpha", { seeds: ["bravo"] });
  const bravo = await network.add("bravo");
  await advertise(bravo, 1, { isPublic: true });
  assert.deepEqual((await alpha.call("GET", "/api/peers")).body.peers, [{
    peerId: null,
    url: "http://bravo.test",
    seed: true,
    status: "unknown",
    failures: 0,
    lastContactAt: null,
    lastError: null,
    recordIssuedAt: null,
    advertisementCount: 0,
  }]);
  await alpha.gossiper.round();
  const view = (await alpha.call("GET", "/api/peers")).body;
  assert.deepEqual(view.self, {
    peerId: "alpha",
    url: "http://alpha.test",
    publicKey: alpha.signer.publicKey,
  });
  assert.equal(view.fanout, 3);
  assert.equal(view.intervalSeconds, 30);
  assert.deepEqual(view.lastRound, {
    at: new Date(network.clock.now()).toISOString(),
    contacted: 1,
    succeeded: 1,
    messages: 2,
  });
  assert.deepEqual(view.peers[0], {
    peerId: "bravo",
    url: "http://bravo.test",
    seed: true,
    status: "ok",
    failures: 0,
    lastContactAt: new Date(network.clock.now()).toISOString(),
    lastError: null,
    recordIssuedAt: new Date(network.clock.now()).toISOString(),
    advertisementCount: 1,
  });
});

Deno.test("known peers and their keys survive a restart; forgetting a peer lets a new key in", async () => {
  const dir = await Deno.makeTempDir({ prefix: "gossip-members-" });
  try {
    await using network = createTestNetwork();
    const alpha = await network.add("alpha", { seeds: ["bravo"] });
    const bravo = await network.add("bravo", { membershipPath: `${dir}/peers.json` });
    await advertise(alpha, 1, { isPublic: true });
    await alpha.gossiper.round();
    await bravo.gossiper.round();
    const store = bravo.store;
    await bravo.close();

    const again = await network.add("bravo", { store, membershipPath: `${dir}/peers.json` });
    await again.gossiper.start();
    assert.deepEqual(again.availableIds(), [rid(1)], "served at once from the store");
    assert.equal(again.membership.get("alpha")?.publicKey, alpha.signer.publicKey);

    const impostor = await Signer.generate();
    const claim = await record(impostor, {
      peerId: "alpha",
      issuedAt: network.clock.now() + 1,
      ads: [],
    });
    const refused = await again.call("POST", "/api/gossip/exchange", {
      protocol: 1,
      from: claim.header,
      digest: [],
    });
    assert.equal(refused.status, 403, "the key binding survived the restart");

    const forgotten = await again.call("DELETE", "/api/peers/alpha");
    assert.deepEqual(forgotten.body, { peerId: "alpha", known: true, removedAdvertisements: 1 });
    const accepted = await again.call("POST", "/api/gossip/exchange", {
      protocol: 1,
      from: claim.header,
      digest: [],
    });
    assert.equal(accepted.status, 200);
    assert.equal(again.membership.get("alpha")?.publicKey, impostor.publicKey);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("rounds start after a short random delay, then repeat every interval until closed", async () => {
  await using network = createTestNetwork();
  const alpha = await network.add("alpha", { seeds: ["bravo"] });
  const bravo = await network.add("bravo");
  await advertise(alpha, 1, { isPublic: true });
  await alpha.gossiper.start();
  const first = await alpha.scheduler.nextSleep();
  assert.ok(first.ms <= network.intervalMs / 10, `first round after ${first.ms} ms`);
  assert.deepEqual(bravo.availableIds(), []);
  first.release();
  await until(
    "the first round reached bravo",
    () => Promise.resolve(bravo.availableIds().length === 1),
  );
  assert.equal(alpha.scheduler.taskCount, 1);

  await advertise(alpha, 2, { isPublic: true });
  await alpha.scheduler.tick();
  assert.deepEqual(bravo.availableIds(), [rid(1), rid(2)]);
  await alpha.close();
  assert.equal(alpha.scheduler.taskCount, 0);
});

Deno.test("a peer whose clock went back issues its next record above the one others hold", async () => {
  await using network = createTestNetwork();
  const alpha = await network.add("alpha", { seeds: ["bravo"] });
  const bravo = await network.add("bravo");
  // Bravo holds a record of alpha dated a minute ahead, as if alpha's clock had been ahead then.
  const ahead = network.clock.now() + 60_000;
  const earlier = await record(alpha.signer, { peerId: "alpha", issuedAt: ahead, ads: [ad(1)] });
  assert.equal(
    (await bravo.call("POST", "/api/gossip/push", {
      protocol: 1,
      from: earlier.header,
      records: [earlier],
    })).body.accepted,
    1,
  );
  await advertise(alpha, 2, { isPublic: true });
  await alpha.gossiper.round(); // bravo ignores the older header, and sends the newer one back
  assert.deepEqual(bravo.availableIds(), [rid(1)]);
  await alpha.gossiper.round();
  assert.deepEqual(bravo.availableIds(), [rid(2)]);
  assert.ok(bravo.gossiper.records.get("alpha")!.issuedAt > ahead);
});

Deno.test("the OpenAPI document describes the gossip endpoints and their network token", async () => {
  await using network = createTestNetwork();
  const bravo = await network.add("bravo");
  const doc = (await bravo.call("GET", "/openapi.json")).body;
  for (const path of ["/api/gossip/exchange", "/api/gossip/push"]) {
    assert.deepEqual(doc.paths[path].post.security, [{ network: [] }], path);
  }
  assert.ok(doc.paths["/api/peers"].get);
  assert.deepEqual(doc.paths["/api/peers/{peerId}"].delete.security, [{ bearer: [] }]);
  assert.equal(doc.components.securitySchemes.network.scheme, "bearer");
  assert.ok(doc.components.schemas.RecordHeader);
});

Deno.test("an unchanged record is re-issued every quarter of the lease, up to a quarter sooner at random", async () => {
  const refreshMs = 375_000 / 4;
  for (const random of [0, 0.999]) {
    const dueAt = Math.ceil(refreshMs * (1 - random / 4));
    await using network = createTestNetwork({ random: () => random });
    const alpha = await network.add("alpha");
    const first = await alpha.gossiper.ownHeader();
    network.clock.advance(dueAt - 1_000);
    assert.equal(await alpha.gossiper.ownHeader(), first, `not yet re-issued (random ${random})`);
    network.clock.advance(1_000);
    const next = await alpha.gossiper.ownHeader();
    assert.ok(next.issuedAt > first.issuedAt, `re-issued (random ${random})`);
    assert.equal(next.adsDigest, first.adsDigest);
  }
});

Deno.test("a peer that could not read its store yet does not tell others it advertises nothing", async () => {
  await using network = createTestNetwork();
  const first = await network.add("alpha", { seeds: ["bravo"] });
  const bravo = await network.add("bravo", { seeds: ["alpha"] });
  await advertise(first, 1, { isPublic: true });
  await first.gossiper.round();
  const { store, signer } = first;
  await first.close();

  store.setReachable(false);
  network.clock.advance(network.intervalMs);
  const alpha = await network.add("alpha", { seeds: ["bravo"], store, signer });
  assert.deepEqual(await alpha.gossiper.round(), {
    at: network.clock.now(),
    contacted: 0,
    succeeded: 0,
    messages: 0,
  });
  await bravo.gossiper.round();
  assert.match(bravo.membership.get("alpha")!.lastError!, /has not loaded its advertisements/);
  assert.deepEqual(bravo.availableIds(), [rid(1)], "alpha's register is still shown");

  store.setReachable(true);
  await alpha.registry.recoverStore();
  network.clock.advance(network.intervalMs);
  assert.equal((await alpha.gossiper.round()).succeeded, 1);
  assert.deepEqual(bravo.availableIds(), [rid(1)]);
  assert.deepEqual(alpha.availableIds(), [rid(1)]);
});
