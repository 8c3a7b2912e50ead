import assert from "node:assert/strict";
import {
  ActiveSetDigest,
  addTerm,
  digestOf,
  digestTerm,
  formatDigest,
  removeTerm,
} from "../../shared/contracts/active_set_digest.ts";

/** The digest of the two entries of the known-set test, worked out with node:crypto and BigInt. */
const KNOWN_DIGEST = "sum-sha256:018de0ec7d9d2a1ae62a8585e8d40fc49ff60fa5de6d15a15460f52bb0f8e2bd";

/** A small deterministic random source. */
function randomSource(seed: number): (n: number) => number {
  let state = seed;
  return (n) => {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    return state % n;
  };
}

Deno.test("an ActiveSetDigest's digest is digestOf its entries after any adds, removals and copies, read at any time", () => {
  const random = randomSource(7);
  for (let round = 0; round < 200; round++) {
    let set = new ActiveSetDigest();
    const model = new Map<string, { version: number; checksum: string }>();
    const expected = () => digestOf([...model].map(([blueprintId, e]) => ({ blueprintId, ...e })));
    let next = 1;
    for (let step = 0; step < 60; step++) {
      const id = `bp-${random(8)}`;
      const action = random(10);
      if (action < 6) {
        // Mostly newer versions, now and then an older one (which changes nothing).
        const version = random(3) === 0 ? Math.max(1, next - random(5)) : next++;
        const checksum = `sha256:${random(5)}`;
        const previous = model.get(id);
        const applies = !previous || previous.version < version;
        assert.equal(set.add(id, version, checksum), applies);
        if (applies) model.set(id, { version, checksum });
      } else if (action < 8) {
        assert.equal(set.remove(id), model.delete(id));
      } else if (action < 9) {
        const copy = set.clone();
        copy.add("bp-copied", 1_000_000 + step, "sha256:copy");
        assert.notEqual(set.versionOf("bp-copied"), 1_000_000 + step); // the original unchanged
        assert.equal(set.digest, expected());
      } else {
        assert.equal(set.digest, expected());
      }
      assert.equal(set.size, model.size);
    }
    assert.equal(set.digest, expected());
    set = set.clone();
    assert.equal(set.digest, expected());
  }
});

Deno.test("the digest of two thousand entries equals the sum of their terms hashed by node:crypto", () => {
  const entries = Array.from({ length: 2000 }, (_, i) => ({
    blueprintId: `bp-${i}`,
    version: 10 + i,
    checksum: `sha256:${(i % 16).toString(16).repeat(64)}`,
  }));
  const reference = entries.reduce(
    (sum, e) => addTerm(sum, digestTerm(e.blueprintId, e.version, e.checksum)),
    0n,
  );
  assert.equal(digestOf(entries), formatDigest(reference));
  const set = new ActiveSetDigest();
  for (const e of entries) set.add(e.blueprintId, e.version, e.checksum);
  set.remove("bp-7");
  const removed = entries[7]!;
  assert.equal(
    set.digest,
    formatDigest(
      removeTerm(reference, digestTerm(removed.blueprintId, removed.version, removed.checksum)),
    ),
  );
});

Deno.test("the digest of a known set is the one the contract fixes", () => {
  const entries = [
    { blueprintId: "a", version: 1, checksum: `sha256:${"1".repeat(64)}` },
    { blueprintId: "b", version: 2, checksum: `sha256:${"2".repeat(64)}` },
  ];
  const reference = formatDigest(
    entries.reduce((sum, e) => addTerm(sum, digestTerm(e.blueprintId, e.version, e.checksum)), 0n),
  );
  assert.equal(digestOf(entries), reference);
  assert.equal(digestOf(entries), KNOWN_DIGEST);
});
