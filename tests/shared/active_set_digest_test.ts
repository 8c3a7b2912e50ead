import assert from "node:assert/strict";
import { ActiveSetDigest, digestOf } from "../../shared/contracts/active_set_digest.ts";

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
