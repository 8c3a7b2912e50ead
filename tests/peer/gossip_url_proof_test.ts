/**
 * Proofs of peer URLs, as a gossiping peer makes them: a URL learned from a
 * record gets the network token only once it proved, with a signed answer
 * to a fresh challenge, that the record's owner answers there; challenges
 * to unproven URLs are rate limited. Hostile URLs are the test's own
 * listeners (an HTTP server that answers anything, a TCP listener that
 * talks like Redis) or a stub transport.
 */
import assert from "node:assert/strict";
import {
  answerChallenge,
  DEFAULT_CHALLENGES_PER_MINUTE,
  DEFAULT_PROOF_TTL_MS,
  type GossipTransport,
  newNonce,
  PeerSigner,
} from "../../peer/gossip/mod.ts";
import { ManualClock } from "../../shared/clock.ts";
import { type ChallengeResponse, GOSSIP_PROTOCOL } from "../../shared/contracts/gossip.ts";
import { AppError } from "../../shared/errors.ts";
import { FakeScheduler } from "../fixtures/fake_scheduler.ts";
import { createGossipPeer } from "../fixtures/gossip_network.ts";
import { createTestNetwork } from "./gossip_helpers.ts";
import {
  record,
  recordingServer,
  redisLikeListener,
  stubTransport,
} from "./gossip_proof_fixtures.ts";
import { rid } from "./helpers.ts";

const TOKEN = "net-secret";
const auth = { authorization: `Bearer ${TOKEN}` };

Deno.test("a record announcing a URL where no peer answers never gets the network token sent there", async () => {
  await using http = recordingServer(() => Response.json({ ok: true }));
  await using redis = redisLikeListener();
  await using network = createTestNetwork({ networkToken: TOKEN });
  const alpha = await network.add("alpha", { seeds: ["bravo"] });
  await network.add("bravo");
  const mallory = await PeerSigner.generate();
  const hostile = [["mallory-http", http.url], ["mallory-redis", redis.url]] as const;

  // Mallory holds the network token and keeps announcing: a dropped record is learned again.
  for (let round = 0; round < 40; round++) {
    if (round % 4 === 0) {
      for (const [peerId, url] of hostile) {
        const pushed = await record(mallory, { peerId, url, issuedAt: network.clock.now() });
        const answer = await alpha.call("POST", "/api/gossip/push", {
          protocol: GOSSIP_PROTOCOL,
          from: pushed.header,
          records: [pushed],
        }, auth);
        assert.equal(answer.status, 200, JSON.stringify(answer.body));
      }
    }
    await alpha.gossiper.round();
    network.clock.advance(network.intervalMs);
  }

  // Challenged after 0, 1, 3, 7 and 15 minutes: the wait doubles with each failed proof.
  assert.equal(
    http.received.length,
    5,
    "the hostile HTTP URL was challenged, five times in 20 min",
  );
  for (const request of http.received) {
    assert.deepEqual(
      { method: request.method, path: request.path, authorization: request.authorization },
      { method: "GET", path: "/api/gossip/challenge", authorization: null },
    );
    assert.equal(request.body, "");
  }
  assert.equal(redis.received.length, 5, "the Redis-like listener was challenged as often");
  for (const bytes of redis.received) {
    assert.match(bytes, /^GET \/api\/gossip\/challenge\?nonce=[A-Za-z0-9_-]{43} HTTP\/1\.1\r\n/);
    assert.ok(!bytes.includes(TOKEN), bytes);
    assert.ok(!/authorization/i.test(bytes), bytes);
  }
  const outside = network.sent.filter((sent) => sent.to === "127.0.0.1");
  assert.deepEqual(
    new Set(outside.map((sent) => `${sent.method} ${sent.path} ${sent.authorization}`)),
    new Set([
      "GET /api/gossip/challenge null",
    ]),
  );
  assert.equal(alpha.membership.get("bravo")!.failures, 0, "gossip with bravo goes on");
});

Deno.test("a peer learned from gossip proves its URL, then gossip with it needs no extra request", async () => {
  await using network = createTestNetwork({ networkToken: TOKEN });
  const alpha = await network.add("alpha", { seeds: ["bravo"] });
  await network.add("bravo");
  const charlie = await network.add("charlie", { seeds: ["bravo"] });
  await charlie.gossiper.round(); // bravo learns charlie
  await alpha.gossiper.round(); // alpha learns charlie from bravo's records
  assert.ok(alpha.membership.get("charlie"), "alpha knows charlie");
  const charlieRegister = rid(0xc1);
  await charlie.registry.advertise(charlieRegister, { isPublic: true });

  const toCharlie = () =>
    network.sent.filter((sent) => sent.to === "charlie").map((sent) =>
      `${sent.method} ${sent.path} ${sent.authorization ?? "(no token)"}`
    );
  network.sent.length = 0;
  network.clock.advance(network.intervalMs);
  await alpha.gossiper.round();
  assert.deepEqual(toCharlie().slice(0, 2), [
    "GET /api/gossip/challenge (no token)",
    `POST /api/gossip/exchange Bearer ${TOKEN}`,
  ]);
  assert.ok(alpha.availableIds().includes(charlieRegister), "gossip with charlie proceeded");
  assert.ok(
    !network.sent.some((sent) => sent.to === "bravo" && sent.path === "/api/gossip/challenge"),
    "bravo, a configured seed, is trusted as configured",
  );

  for (let round = 0; round < 3; round++) {
    network.sent.length = 0;
    network.clock.advance(network.intervalMs);
    await alpha.gossiper.round();
    assert.equal(toCharlie()[0], `POST /api/gossip/exchange Bearer ${TOKEN}`, "proof remembered");
  }

  // An exchange that fails forgets the proof: the URL proves itself again first.
  const { store, signer } = charlie;
  await charlie.close();
  network.clock.advance(network.intervalMs);
  assert.equal((await alpha.gossiper.round()).succeeded, 1, "only bravo answered");
  await network.add("charlie", { seeds: ["bravo"], store, signer });
  network.sent.length = 0;
  network.clock.advance(network.intervalMs);
  await alpha.gossiper.round();
  assert.equal(toCharlie()[0], "GET /api/gossip/challenge (no token)");

  // And so does an old proof.
  network.clock.advance(DEFAULT_PROOF_TTL_MS);
  network.sent.length = 0;
  await alpha.gossiper.round();
  assert.equal(toCharlie()[0], "GET /api/gossip/challenge (no token)");
  assert.equal(alpha.membership.get("charlie")!.failures, 0);
});

/** A real gossiper (alpha) over `transport`, knowing one peer learned from gossip: charlie. */
async function alphaKnowingCharlie(
  transport: GossipTransport,
  charlie: { publicKey: string },
  options: { fanout?: number } = {},
) {
  const clock = new ManualClock();
  const peer = await createGossipPeer({
    peerId: "alpha",
    url: "http://alpha.test",
    clock,
    scheduler: new FakeScheduler(clock),
    transport,
    seeds: [],
    intervalMs: 30_000,
    ttlMs: 300_000,
    membership: { maxFailures: 1_000 },
    ...options,
  });
  peer.membership.learn({
    peerId: "charlie",
    url: "http://charlie.test",
    publicKey: charlie.publicKey,
  });
  return {
    ...peer,
    clock,
    charlie: () => peer.membership.get("charlie")!,
    async [Symbol.asyncDispose]() {
      await peer.gossiper.close();
      await peer.registry.close();
    },
  };
}

Deno.test("an answer with a wrong signature, replayed, or of another peer or URL is refused, and no token follows", async () => {
  const charlie = await PeerSigner.generate();
  const mallory = await PeerSigner.generate();
  const url = "http://charlie.test";
  const old = await answerChallenge(charlie, { peerId: "charlie", url }, newNonce());
  type Answer = (nonce: string) => Promise<ChallengeResponse>;
  const cases: [string, Answer, RegExp][] = [
    [
      "signed by another key",
      async (nonce) => ({
        ...(await answerChallenge(mallory, { peerId: "charlie", url }, nonce)),
        publicKey: charlie.publicKey,
      }),
      /signature does not verify/,
    ],
    ["a replayed answer", () => Promise.resolve(old), /for another challenge \(replayed\)/],
    [
      "a replayed answer given the new nonce",
      (nonce) => Promise.resolve({ ...old, nonce }),
      /signature does not verify/,
    ],
    [
      "another peer's genuine answer",
      (nonce) => answerChallenge(mallory, { peerId: "mallory", url }, nonce),
      /a peer answers there as peer "mallory", with another key/,
    ],
    [
      "charlie's genuine answer for another URL",
      (nonce) =>
        answerChallenge(charlie, { peerId: "charlie", url: "http://elsewhere.test" }, nonce),
      /for the URL http:\/\/elsewhere\.test/,
    ],
  ];
  for (const [what, answer, reason] of cases) {
    const { calls, transport } = stubTransport((_url, request) => answer(request.nonce));
    await using alpha = await alphaKnowingCharlie(transport, charlie);
    const round = await alpha.gossiper.round();
    assert.equal(round.succeeded, 0, what);
    assert.deepEqual(calls, [`challenge ${url}`], `${what}: nothing follows the challenge`);
    assert.match(alpha.charlie().lastError!, /did not prove it is that peer/, what);
    assert.match(alpha.charlie().lastError!, reason, what);
  }

  // Charlie's own fresh answer is taken: the exchange follows.
  const { calls, transport } = stubTransport((_url, request) =>
    answerChallenge(charlie, { peerId: "charlie", url: `${url}/` }, request.nonce)
  );
  await using alpha = await alphaKnowingCharlie(transport, charlie);
  await alpha.gossiper.round();
  assert.deepEqual(calls, [`challenge ${url}`, `exchange ${url}`]);
});

Deno.test("a URL whose proofs fail is challenged again only after a wait that doubles, up to 10 minutes", async () => {
  const { calls, transport } = stubTransport(() =>
    Promise.reject(new AppError("unavailable", "stub: connection refused"))
  );
  const charlie = await PeerSigner.generate();
  await using alpha = await alphaKnowingCharlie(transport, charlie);
  const start = alpha.clock.now();
  const challengedAt: number[] = [];
  for (let round = 0; round < 80; round++) { // 40 minutes
    const before = calls.length;
    await alpha.gossiper.round();
    if (calls.length > before) challengedAt.push((alpha.clock.now() - start) / 1000);
    alpha.clock.advance(30_000);
  }
  assert.deepEqual(challengedAt, [0, 60, 180, 420, 900, 1500, 2100]);
  assert.ok(calls.every((call) => call === "challenge http://charlie.test"), "nothing else");
  assert.match(alpha.charlie().lastError!, /next challenge in \d+ s|no valid answer/);
});

Deno.test("another id announced at the origin of a failed proof waits too; other origins do not", async () => {
  const { calls, transport } = stubTransport(() =>
    Promise.reject(new AppError("unavailable", "stub: connection refused"))
  );
  await using alpha = await alphaKnowingCharlie(transport, await PeerSigner.generate());
  await alpha.gossiper.round();
  assert.deepEqual(calls, ["challenge http://charlie.test"]);
  for (
    const [peerId, url] of [["charlie-2", "http://charlie.test/two"], ["dave", "http://dave.test"]]
  ) {
    alpha.membership.learn({
      peerId: peerId!,
      url: url!,
      publicKey: (await PeerSigner.generate()).publicKey,
    });
  }
  alpha.clock.advance(30_000);
  await alpha.gossiper.round();
  assert.deepEqual(calls.slice(1), ["challenge http://dave.test"]);
  assert.match(alpha.membership.get("charlie-2")!.lastError!, /next challenge in 30 s/);
});

Deno.test("all challenges together stay within a budget per minute, whatever the number of hostile records", async () => {
  const { calls, transport } = stubTransport(() =>
    Promise.reject(new AppError("unavailable", "stub: connection refused"))
  );
  await using alpha = await alphaKnowingCharlie(transport, await PeerSigner.generate(), {
    fanout: 50,
  });
  for (let i = 0; i < 40; i++) {
    alpha.membership.learn({
      peerId: `hostile-${i}`,
      url: `http://host-${i}.test`,
      publicKey: (await PeerSigner.generate()).publicKey,
    });
  }
  const perRound: number[] = [];
  for (let round = 0; round < 20; round++) { // 10 minutes
    const before = calls.length;
    await alpha.gossiper.round();
    perRound.push(calls.length - before);
    if (round === 0) {
      const limited = alpha.membership.members.filter((member) =>
        member.lastError?.includes("this peer sends at most 12 challenges a minute")
      );
      assert.equal(limited.length, 41 - 12, "the others were not contacted at all");
    }
    alpha.clock.advance(30_000);
  }
  assert.equal(DEFAULT_CHALLENGES_PER_MINUTE, 12);
  assert.deepEqual(perRound.slice(0, 3), [12, 6, 6]);
  assert.ok(perRound.every((count) => count <= 12), perRound.join(", "));
  assert.ok(perRound.reduce((a, b) => a + b) <= 12 + 12 * 10, perRound.join(", "));
  assert.ok(calls.every((call) => call.startsWith("challenge ")), "no exchange, no push");
});
