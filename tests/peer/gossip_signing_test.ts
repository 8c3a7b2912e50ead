/**
 * Record signatures and the peer's key pair.
 */
import assert from "node:assert/strict";
import { AppError } from "../../shared/errors.ts";
import {
  advertisementsDigest,
  canonicalAdvertisements,
  loadPeerSigner,
  PEER_KEY_FILE,
  PeerSigner,
  SignatureVerifier,
  signingText,
} from "../../peer/gossip/signing.ts";
import { tempDir } from "../fixtures/wait.ts";
import { rid } from "./helpers.ts";

const unsigned = (publicKey: string) => ({
  peerId: "alpha",
  url: "http://alpha.test",
  publicKey,
  issuedAt: 1_780_000_000_000,
  adsDigest: `sha256:${"0".repeat(64)}`,
  adsCount: 0,
});

Deno.test("a signed header verifies, and changing any field breaks it", async () => {
  const signer = await PeerSigner.generate();
  const header = await signer.sign(unsigned(signer.publicKey));
  const verifier = new SignatureVerifier();
  assert.equal(await verifier.verify(header), true);
  assert.equal(await verifier.verify(header), true, "remembered");
  const other = await PeerSigner.generate();
  for (
    const changed of [
      { ...header, peerId: "bravo" },
      { ...header, url: "http://elsewhere.test" },
      { ...header, issuedAt: header.issuedAt + 1 },
      { ...header, adsDigest: `sha256:${"1".repeat(64)}` },
      { ...header, adsCount: 1 },
      { ...header, publicKey: other.publicKey },
      { ...header, signature: "A".repeat(86) },
    ]
  ) {
    assert.equal(await verifier.verify(changed), false, JSON.stringify(changed));
  }
});

Deno.test("the signing text and set digest are plain lines any implementation can rebuild", async () => {
  assert.equal(
    signingText(unsigned("K")),
    `sorcha-gossip-record-v1\nalpha\nhttp://alpha.test\nK\n1780000000000\nsha256:${
      "0".repeat(64)
    }\n0`,
  );
  const ads = [
    {
      registerId: rid(2).toUpperCase(),
      syncState: "Active" as const,
      latestVersion: 3,
      latestDocketVersion: 1,
    },
    {
      registerId: rid(1),
      syncState: "FullyReplicated" as const,
      latestVersion: 0,
      latestDocketVersion: 0,
    },
  ];
  assert.equal(
    canonicalAdvertisements(ads),
    `${rid(1)} FullyReplicated 0 0\n${rid(2)} Active 3 1\n`,
  );
  assert.equal(await advertisementsDigest(ads), await advertisementsDigest([...ads].reverse()));
  assert.equal(
    await advertisementsDigest([]),
    "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
  );
});

Deno.test("the key pair is generated once, kept readable by its owner only, and reused", async () => {
  await using dir = await tempDir("peer-key-");
  const first = await loadPeerSigner(dir.path);
  const again = await loadPeerSigner(dir.path);
  assert.equal(again.publicKey, first.publicKey);
  const info = await Deno.stat(`${dir.path}/${PEER_KEY_FILE}`);
  assert.equal((info.mode ?? 0) & 0o077, 0, "no access for group or others");
  const header = await again.sign(unsigned(first.publicKey));
  assert.equal(await new SignatureVerifier().verify(header), true);
});

Deno.test("a damaged key file stops the peer with a message saying what to do", async () => {
  await using dir = await tempDir("peer-key-");
  await Deno.writeTextFile(`${dir.path}/${PEER_KEY_FILE}`, "{not a key");
  await assert.rejects(() => loadPeerSigner(dir.path), (error: unknown) => {
    assert.ok(error instanceof AppError);
    assert.equal(error.code, "failed_precondition");
    assert.match(error.message, /Cannot use the peer key in .*peer-key.json: it is not an Ed25519/);
    assert.match(error.message, /delete it to give this peer a new key/);
    return true;
  });
});
