/**
 * The hub link's pure pieces: round order, entry checks, deadlines, and the
 * active set's digest.
 */
import assert from "node:assert/strict";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { SystemRegisterEntrySchema } from "../../../gen/sorcha/peer/v1/system_register_sync_pb.ts";
import { checkEntry, RejectedEntryError } from "../../../peer/hub_link/entry_check.ts";
import { HubDirectory, roundOrder } from "../../../peer/hub_link/hubs.ts";
import {
  ActiveSetDigest,
  digestOf,
  EMPTY_DIGEST,
  formatDigest,
  parseDigest,
} from "../../../shared/contracts/active_set_digest.ts";
import { documentChecksum } from "../../../shared/contracts/checksum.ts";
import { SYSTEM_REGISTER_ID } from "../../../shared/contracts/system_register.ts";
import { ManualClock } from "../../../shared/clock.ts";
import { deadline } from "../../../shared/deadline.ts";
import { AppError } from "../../../shared/errors.ts";
import { FakeScheduler } from "../../fixtures/fake_scheduler.ts";

Deno.test("a round starts at the given hub and wraps around, so the failed hub comes last", () => {
  assert.deepEqual(roundOrder(3, 0), [0, 1, 2]);
  assert.deepEqual(roundOrder(3, 1), [1, 2, 0]);
  assert.deepEqual(roundOrder(3, 3), [0, 1, 2]); // after n2 fails: n0 → n1 → n2
  assert.deepEqual(roundOrder(1, 1), [0]);
  const hubs = new HubDirectory([
    { address: "n0:1", host: "n0", port: 1, priority: 0 },
    { address: "n1:1", host: "n1", port: 1, priority: 1 },
  ]);
  assert.deepEqual(hubs.round(2).map((h) => h.address), ["n0:1", "n1:1"]);
  assert.deepEqual(hubs.above(1).map((h) => h.address), ["n0:1"]);
});

Deno.test("a hub's failures count in a row and an answer resets them", () => {
  const hubs = new HubDirectory([{ address: "n0:1", host: "n0", port: 1, priority: 0 }]);
  const hub = hubs.at(0);
  hubs.failed(hub, "refused", { at: 5 });
  hubs.failed(hub, "refused again", { at: 6, rateLimited: true });
  assert.equal(hub.consecutiveFailures, 2);
  assert.equal(hub.state, "rate-limited");
  hubs.answered(hub, 7, "n0");
  assert.equal(hub.consecutiveFailures, 0);
  assert.deepEqual(hubs.views()[0], {
    address: "n0:1",
    priority: 0,
    state: "rate-limited",
    centralNodeId: "n0",
    lastError: "refused again",
    lastErrorAt: 6,
    lastContactAt: 7,
    consecutiveFailures: 0,
    probeStreak: 0,
  });
  assert.equal(hubs.name(hub), "n0 (n0:1)");
});

const encoder = new TextEncoder();

type EntryFields = Omit<MessageInitShape<typeof SystemRegisterEntrySchema>, "$typeName">;

function entry(fields: EntryFields = {}) {
  const document = encoder.encode('{"title":"x"}');
  return create(SystemRegisterEntrySchema, {
    blueprintId: "bp-1",
    registerId: SYSTEM_REGISTER_ID,
    blueprintDocument: document,
    publishedAt: 1000n,
    publishedBy: "operator",
    version: 5n,
    isActive: true,
    publicationTransactionId: "tx",
    checksum: documentChecksum(document),
    metadata: { kind: "test" },
    ...fields,
  });
}

Deno.test("a good entry passes its check and takes the replica's form", () => {
  const checked = checkEntry(entry({ activeSetDigest: EMPTY_DIGEST }), {
    afterVersion: 4,
    hub: "n0",
  });
  assert.equal(checked.isActive, true);
  assert.equal(checked.activeSetDigest, EMPTY_DIGEST);
  assert.deepEqual(checked.entry, {
    blueprintId: "bp-1",
    version: 5,
    publishedAt: 1000,
    publishedBy: "operator",
    publicationTransactionId: "tx",
    checksum: documentChecksum(encoder.encode('{"title":"x"}')),
    metadata: { kind: "test" },
    document: encoder.encode('{"title":"x"}'),
    documentSize: 13,
  });
});

Deno.test("a withheld entry keeps its checksum and size, without a document", () => {
  const checked = checkEntry(
    entry({
      blueprintDocument: new Uint8Array(0),
      documentWithheld: true,
      documentSize: 5_000_000n,
    }),
    { afterVersion: 0, hub: "n0" },
  );
  assert.equal(checked.entry.document, undefined);
  assert.equal(checked.entry.documentSize, 5_000_000);
});

const REJECTED: [string, EntryFields, number, RegExp][] = [
  [
    "a document that does not match its checksum",
    {
      blueprintDocument: encoder.encode('{"title":"y"}'),
    },
    4,
    /version 5 \(blueprint "bp-1"\) from hub n0: its document does not match its checksum/,
  ],
  ["a version not after the previous one", {}, 5, /its version does not follow 5/],
  ["another register's entry", { registerId: "r" }, 0, /register id is "r"/],
  ["a bad blueprint id", { blueprintId: "" }, 0, /blueprint id is not valid/],
  ["a malformed checksum", { checksum: "md5:1" }, 0, /checksum is not sha256/],
  [
    "a withheld entry that carries a document",
    { documentWithheld: true },
    0,
    /withheld but carries/,
  ],
];

for (const [what, fields, after, message] of REJECTED) {
  Deno.test(`${what} is rejected with a message naming the entry`, () => {
    assert.throws(() => checkEntry(entry(fields), { afterVersion: after, hub: "n0" }), (error) => {
      assert.ok(error instanceof RejectedEntryError);
      assert.match(error.message, message);
      assert.match(error.message, /it was not applied and the sync will be retried/);
      return true;
    });
  });
}

Deno.test("a deadline aborts its signal with deadline_exceeded when its time is up", async () => {
  const scheduler = new FakeScheduler(new ManualClock());
  const d = deadline(scheduler, 500, { what: "Heartbeat 3 to hub n0" });
  (await scheduler.nextSleep()).release();
  await Promise.resolve();
  assert.ok(d.signal.aborted);
  assert.ok(d.signal.reason instanceof AppError);
  assert.equal(d.signal.reason.code, "deadline_exceeded");
  assert.equal(d.signal.reason.message, "Heartbeat 3 to hub n0: no answer within 0.5 s");
  d[Symbol.dispose]();
});

Deno.test("a deadline follows its parent signal, and disposing it stops its timer", () => {
  const scheduler = new FakeScheduler(new ManualClock());
  const parent = new AbortController();
  const d = deadline(scheduler, 500, { what: "x", signal: parent.signal });
  parent.abort(new Error("session ended"));
  assert.equal((d.signal.reason as Error).message, "session ended");
  d[Symbol.dispose]();
  assert.equal(scheduler.pending.length, 0);
});

Deno.test("the digest is order-free and follows supersession and removal", () => {
  const a = { blueprintId: "a", version: 1, checksum: "sha256:" + "1".repeat(64) };
  const b = { blueprintId: "b", version: 2, checksum: "sha256:" + "2".repeat(64) };
  const a3 = { blueprintId: "a", version: 3, checksum: "sha256:" + "3".repeat(64) };
  assert.equal(digestOf([]), EMPTY_DIGEST);
  assert.equal(digestOf([a, b]), digestOf([b, a]));
  const set = new ActiveSetDigest();
  set.add(a.blueprintId, a.version, a.checksum);
  set.add(b.blueprintId, b.version, b.checksum);
  assert.equal(set.digest, digestOf([a, b]));
  assert.ok(set.add(a3.blueprintId, a3.version, a3.checksum));
  assert.ok(!set.add(a.blueprintId, a.version, a.checksum), "an older version changes nothing");
  assert.equal(set.digest, digestOf([a3, b]));
  const copy = set.clone();
  assert.ok(set.remove("a"));
  assert.equal(set.digest, digestOf([b]));
  assert.equal(copy.digest, digestOf([a3, b]));
  assert.equal(set.size, 1);
  assert.equal(parseDigest(set.digest), parseDigest(digestOf([b])));
  assert.equal(parseDigest("sha256:00"), undefined);
  assert.equal(formatDigest(0n), EMPTY_DIGEST);
});
