/**
 * The URL challenge itself: the endpoint (no token, an answer bound to the
 * nonce, the peer's id, URL and key, a bounded number of answers), how long
 * a proof is remembered and what makes it stale, and the HTTP transport's
 * care (no redirect followed, no large answer read).
 */
import assert from "node:assert/strict";
import {
  answerChallenge,
  checkChallengeAnswer,
  createHttpTransport,
  DEFAULT_PROOF_TTL_MS,
  type Member,
  newNonce,
  PeerSigner,
  SignatureVerifier,
  UrlProofs,
} from "../../peer/gossip/mod.ts";
import { ManualClock } from "../../shared/clock.ts";
import { type ChallengeResponse, GOSSIP_PROTOCOL } from "../../shared/contracts/gossip.ts";
import type { AppError } from "../../shared/errors.ts";
import { createTestNetwork } from "./gossip_helpers.ts";
import { record, recordingServer, stubTransport } from "./gossip_proof_fixtures.ts";

const TOKEN = "net-secret";

Deno.test("the challenge endpoint needs no token, binds its answer to the nonce, and answers a bounded number", async () => {
  await using network = createTestNetwork({ networkToken: TOKEN });
  const bravo = await network.add("bravo", { apiToken: "api-secret" });
  const nonce = newNonce();
  const response = await bravo.app.request(`/api/gossip/challenge?nonce=${nonce}`);
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("cache-control"), "no-store");
  const answer = await response.json() as ChallengeResponse;
  assert.deepEqual(
    { ...answer, signature: "…" },
    {
      protocol: 1,
      peerId: "bravo",
      url: "http://bravo.test",
      publicKey: bravo.signer.publicKey,
      nonce,
      signature: "…",
    },
  );
  const verifier = new SignatureVerifier();
  const expected = { peerId: "bravo", url: bravo.url, publicKey: bravo.signer.publicKey };
  assert.equal(await checkChallengeAnswer(answer, { ...expected, nonce }, verifier), undefined);
  assert.match(
    (await checkChallengeAnswer(answer, { ...expected, nonce: newNonce() }, verifier))!.reason,
    /replayed/,
  );

  for (const query of ["", "?nonce=short", `?nonce=${nonce}&extra=1`]) {
    const bad = await bravo.call("GET", `/api/gossip/challenge${query}`);
    assert.equal(bad.status, 400, `${query}: ${JSON.stringify(bad.body)}`);
    assert.equal(bad.body.error.code, "invalid_argument");
  }

  // 100 at once (five seconds' worth), then 20 a second. The first answer above took one; the
  // malformed challenges were refused before they cost anything.
  for (let answered = 1; answered < 100; answered++) {
    assert.equal(
      (await bravo.call("GET", `/api/gossip/challenge?nonce=${newNonce()}`)).status,
      200,
    );
  }
  const refused = await bravo.call("GET", `/api/gossip/challenge?nonce=${newNonce()}`);
  assert.equal(refused.status, 429, JSON.stringify(refused.body));
  assert.equal(refused.body.error.code, "resource_exhausted");
  network.clock.advance(50);
  assert.equal((await bravo.call("GET", `/api/gossip/challenge?nonce=${newNonce()}`)).status, 200);
  assert.equal((await bravo.call("GET", `/api/gossip/challenge?nonce=${newNonce()}`)).status, 429);

  const doc = (await bravo.call("GET", "/openapi.json")).body;
  assert.deepEqual(doc.paths["/api/gossip/challenge"].get.security, []);
});

Deno.test("a proof is remembered for its peer id, URL and key together, and for a limited time", async () => {
  const clock = new ManualClock();
  let charlie = await PeerSigner.generate();
  let where = "http://charlie.test";
  const { calls, transport } = stubTransport((_url, request) =>
    answerChallenge(charlie, { peerId: "charlie", url: where }, request.nonce)
  );
  const proofs = new UrlProofs({
    peerId: "alpha",
    publicUrl: "http://alpha.test",
    signer: await PeerSigner.generate(),
    transport,
    membership: { configured: (url) => url === "http://seed.test" },
    clock,
  });
  const member: Member = {
    peerId: "charlie",
    url: where,
    publicKey: charlie.publicKey,
    seed: false,
    failures: 0,
    lastContactAt: undefined,
    lastError: undefined,
  };
  const signal = new AbortController().signal;
  await proofs.prove(member, signal);
  await proofs.prove(member, signal);
  clock.advance(DEFAULT_PROOF_TTL_MS - 1);
  await proofs.prove(member, signal);
  assert.equal(calls.length, 1, "proved once, remembered");
  clock.advance(1);
  await proofs.prove(member, signal);
  assert.equal(calls.length, 2, "proved again once old");

  where = member.url = "http://charlie-moved.test";
  await proofs.prove(member, signal);
  assert.deepEqual(calls.slice(2), ["challenge http://charlie-moved.test"], "a new URL");
  charlie = await PeerSigner.generate();
  member.publicKey = charlie.publicKey;
  await proofs.prove(member, signal);
  assert.equal(calls.length, 4, "a new key");
  proofs.forget(member);
  await proofs.prove(member, signal);
  assert.equal(calls.length, 5, "forgotten");

  await proofs.prove({
    ...member,
    peerId: undefined,
    publicKey: undefined,
    url: "http://seed.test",
  }, signal);
  assert.equal(calls.length, 5, "a configured seed is trusted as configured");
});

Deno.test("gossip over HTTP follows no redirect and reads no large answer to a challenge", async () => {
  await using target = recordingServer(() => Response.json({}));
  await using redirector = recordingServer(() =>
    new Response(null, { status: 307, headers: { location: `${target.url}/api/gossip/exchange` } })
  );
  await using large = recordingServer(() => new Response("x".repeat(1 << 20)));
  const transport = createHttpTransport({ networkToken: TOKEN, timeoutMs: 5_000 });
  const signal = new AbortController().signal;
  const signer = await PeerSigner.generate();
  const from = (await record(signer, { peerId: "alpha", url: "http://alpha.test", issuedAt: 1 }))
    .header;
  await assert.rejects(
    transport.exchange(redirector.url, { protocol: GOSSIP_PROTOCOL, from, digest: [] }, signal),
    (error: AppError) => error.code === "unavailable",
  );
  await assert.rejects(transport.challenge(redirector.url, { nonce: newNonce() }, signal));
  assert.equal(redirector.received.length, 2);
  assert.deepEqual(target.received, [], "the redirect was not followed");
  await assert.rejects(
    transport.challenge(large.url, { nonce: newNonce() }, signal),
    /larger than 4096 bytes/,
  );
  assert.equal(large.received[0]!.authorization, null);
});
