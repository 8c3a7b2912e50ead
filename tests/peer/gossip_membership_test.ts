/**
 * The list of known peers: seeds, growth, failures, bound, persistence.
 */
import assert from "node:assert/strict";
import { ManualClock } from "../../shared/clock.ts";
import {
  Membership,
  readMembershipFile,
  writeMembershipFile,
} from "../../peer/gossip/membership.ts";
import { tempDir } from "../fixtures/wait.ts";

function identity(n: number, key = `key-${n}`) {
  return { peerId: `p${n}`, url: `http://p${n}.test`, publicKey: key };
}

function membership(options: Partial<ConstructorParameters<typeof Membership>[0]> = {}) {
  return new Membership({
    selfId: "self",
    selfUrl: "http://self.test",
    seeds: [],
    clock: new ManualClock(),
    ...options,
  });
}

Deno.test("the list starts from the seeds, without the node itself or repeats", () => {
  const list = membership({
    seeds: ["http://a.test/", "http://self.test", "http://a.test", "http://b.test"],
  });
  assert.deepEqual(list.members.map((m) => [m.url, m.peerId, m.seed]), [
    ["http://a.test", undefined, true],
    ["http://b.test", undefined, true],
  ]);
});

Deno.test("a seed reached for the first time takes the id and key it proved", () => {
  const list = membership({ seeds: ["http://p1.test"] });
  list.reached(identity(1), list.members[0]);
  assert.deepEqual(list.members.map((m) => [m.peerId, m.publicKey, m.seed, m.failures]), [
    ["p1", "key-1", true, 0],
  ]);
  assert.ok(list.members[0]!.lastContactAt !== undefined);
});

Deno.test("an address that now answers as another peer counts as a failure of the one expected", () => {
  const list = membership();
  list.learn(identity(1));
  const expected = list.get("p1")!;
  list.reached({ ...identity(2), url: expected.url }, expected);
  assert.equal(list.get("p1")!.failures, 1);
  assert.match(list.get("p1")!.lastError!, /now answers as peer "p2"/);
  assert.ok(list.get("p2"));
});

Deno.test("a long address that now answers as another peer is cut in the failure it records", () => {
  const list = membership();
  const url = `http://p1.test/${"a".repeat(2_030)}`;
  list.learn({ ...identity(1), url });
  const expected = list.get("p1")!;
  list.reached({ ...identity(2), url }, expected);
  const error = list.get("p1")!.lastError!;
  assert.match(error, /^http:\/\/p1\.test\/a+… \(2045 characters\) now answers as peer "p2"$/);
  assert.ok(error.length < 200, error);
});

Deno.test("peers that keep failing are dropped; seeds stay", () => {
  const list = membership({ seeds: ["http://seed.test"], maxFailures: 2 });
  list.learn(identity(1));
  for (const member of [...list.members]) list.failed(member, "refused");
  assert.equal(list.members.length, 2);
  for (const member of [...list.members]) list.failed(member, "refused");
  assert.deepEqual(list.members.map((m) => m.url), ["http://seed.test"]);
  list.reached(identity(3), list.members[0]);
  assert.equal(list.get("p3")!.failures, 0, "a success resets the count");
});

Deno.test("the list is bounded: a new peer is not added once it is full", () => {
  const list = membership({ maxPeers: 3 });
  for (let n = 1; n <= 5; n++) list.learn(identity(n));
  assert.deepEqual(list.members.map((m) => m.peerId), ["p1", "p2", "p3"]);
  assert.equal(list.learn(identity(4)), false);
  assert.equal(list.learn({ ...identity(2), url: "http://moved.test" }), true);
  assert.equal(list.get("p2")!.url, "http://moved.test", "a known peer may move");
});

Deno.test("pick returns distinct random peers, at most as many as known", () => {
  const list = membership({ random: () => 0.999 });
  for (let n = 1; n <= 5; n++) list.learn(identity(n));
  const picked = list.pick(3);
  assert.equal(new Set(picked).size, 3);
  assert.equal(list.pick(10).length, 5);
});

Deno.test("the saved list keeps ids, addresses and keys, and is restored after the seeds", async () => {
  await using dir = await tempDir("membership-");
  const path = `${dir.path}/peers.json`;
  const list = membership({ seeds: ["http://p1.test"] });
  list.reached(identity(1), list.members[0]);
  list.learn(identity(2));
  assert.equal(list.dirty, true);
  await writeMembershipFile(path, list.snapshot());
  assert.equal(list.dirty, false);

  const restored = membership({ seeds: ["http://p1.test"] });
  restored.restore((await readMembershipFile(path))!);
  assert.deepEqual(restored.members.map((m) => [m.peerId, m.url, m.publicKey, m.seed]), [
    ["p1", "http://p1.test", "key-1", true],
    ["p2", "http://p2.test", "key-2", false],
  ]);
  await Deno.writeTextFile(path, "not json");
  assert.equal(await readMembershipFile(path), undefined, "an unreadable file is rebuilt");
});

Deno.test("contacts alone do not make the list to save; new, moved and dropped peers do", () => {
  const list = membership({ maxFailures: 2 });
  list.learn(identity(1));
  list.snapshot();
  list.reached(identity(1), list.get("p1"));
  list.failed(list.get("p1")!, "refused");
  assert.equal(list.dirty, false, "a contact time or a failure count is not worth a write");
  list.learn({ ...identity(1), url: "http://moved.test" });
  assert.equal(list.dirty, true);
  list.snapshot();
  list.failed(list.get("p1")!, "refused"); // the second in a row: dropped
  assert.equal(list.get("p1"), undefined);
  assert.equal(list.dirty, true, "a dropped peer is");
});
