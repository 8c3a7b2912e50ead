import assert from "node:assert/strict";
import { createTestPeer, item, rid } from "./helpers.ts";

const BULK = "/api/registers/bulk-advertise";

const badBulkBodies: [string, unknown, RegExp][] = [
  [
    "a register id that is not hex",
    { advertisements: [{ registerId: "x", isPublic: true }] },
    /advertisements\[0\]\.registerId must be 32 hex characters/,
  ],
  ["a register id of 31 characters", {
    advertisements: [{ registerId: rid(1).slice(1), isPublic: true }],
  }, /registerId must be 32 hex characters/],
  ["a GUID with hyphens", {
    advertisements: [{ registerId: "6f1c2a0e-9b3d-4f7a-8c5e-1d2b3a4f5e6d", isPublic: true }],
  }, /registerId must be 32 hex characters/],
  [
    "a missing isPublic",
    { advertisements: [{ registerId: rid(1) }] },
    /advertisements\[0\]\.isPublic is required/,
  ],
  [
    "isPublic as a string",
    { advertisements: [{ registerId: rid(1), isPublic: "yes" }] },
    /isPublic must be true or false/,
  ],
  [
    "a negative version",
    { advertisements: [item(1, { latestVersion: -1 })] },
    /latestVersion must be a whole number from 0/,
  ],
  [
    "a fractional docket version",
    { advertisements: [item(1, { latestDocketVersion: 1.5 })] },
    /latestDocketVersion must be a whole number/,
  ],
  [
    "a version as a string",
    { advertisements: [{ ...item(1), latestVersion: "3" }] },
    /latestVersion must be a whole number/,
  ],
  ["no advertisements field", { fullSync: true }, /advertisements is required/],
  [
    "advertisements that is not an array",
    { advertisements: {} },
    /advertisements must be an array/,
  ],
  [
    "fullSync as a string",
    { advertisements: [], fullSync: "true" },
    /fullSync must be true or false/,
  ],
  ["a body that is an array", [item(1)], /Cannot bulk-advertise registers/],
  [
    "a repeated register id",
    { advertisements: [item(1), item(2), item(1)] },
    /advertisements\[2\]\.registerId repeats advertisements\[0\]\.registerId/,
  ],
  ["a register id repeated in another case", {
    advertisements: [item(10), {
      registerId: rid(10).toUpperCase(),
      isPublic: true,
    }],
  }, /advertisements\[1\]\.registerId repeats advertisements\[0\]\.registerId/],
  ["a good item before a bad one", {
    advertisements: [item(5), { registerId: "nope", isPublic: true }],
    fullSync: true,
  }, /advertisements\[1\]\.registerId/],
];

for (const [what, body, message] of badBulkBodies) {
  Deno.test(`bulk advertise with ${what} answers 400 naming the field and changes nothing`, async () => {
    await using peer = await createTestPeer();
    await peer.call("POST", BULK, { advertisements: [item(1)] });
    const writes = peer.store.valueWrites;
    const res = await peer.call("POST", BULK, body);
    assert.equal(res.status, 400);
    assert.equal(res.body.error.code, "invalid_argument");
    assert.match(res.body.error.message, message);
    assert.equal(peer.store.valueWrites, writes);
    const ids = (await peer.call("GET", "/api/registers/available")).body.map((
      r: { registerId: string },
    ) => r.registerId);
    assert.deepEqual(ids, [rid(1)]);
  });
}

Deno.test("bulk advertise with a body that is not JSON answers 400 and changes nothing", async () => {
  await using peer = await createTestPeer();
  const res = await peer.call("POST", BULK, "{not json");
  assert.equal(res.status, 400);
  assert.equal(res.body.error.code, "invalid_argument");
  assert.match(res.body.error.message, /JSON/);
  assert.equal(peer.store.entries.size, 0);
});

Deno.test("bulk advertise without a JSON content type answers 415 with a JSON error", async () => {
  await using peer = await createTestPeer();
  const res = await peer.call("POST", BULK, JSON.stringify({ advertisements: [item(1)] }), {
    "content-type": "text/plain",
  });
  assert.equal(res.status, 415);
  assert.equal(res.body.error.code, "unsupported_media_type");
  assert.equal(
    res.body.error.message,
    'POST /api/registers/bulk-advertise: the body must be JSON sent with "Content-Type: application/json" (got "text/plain")',
  );
  assert.equal(peer.store.entries.size, 0);
});

Deno.test("bulk advertise with an empty body answers 4xx with a JSON error and changes nothing", async () => {
  await using peer = await createTestPeer();
  const res = await peer.app.request(BULK, { method: "POST" });
  assert.ok(res.status === 400 || res.status === 415, `status ${res.status}`);
  assert.ok((await res.json()).error.message);
  assert.equal(peer.store.entries.size, 0);
});

Deno.test("advertising a register id that is not 32 hex characters answers 400 naming it", async () => {
  await using peer = await createTestPeer();
  const res = await peer.call("POST", "/api/registers/xyz/advertise", { isPublic: true });
  assert.equal(res.status, 400);
  assert.equal(
    res.body.error.message,
    'Cannot advertise register "xyz": registerId must be 32 hex characters',
  );
  assert.equal(peer.store.entries.size, 0);
});

Deno.test("advertising without isPublic answers 400 and changes nothing", async () => {
  await using peer = await createTestPeer();
  const res = await peer.call("POST", `/api/registers/${rid(1)}/advertise`, { latestVersion: 3 });
  assert.equal(res.status, 400);
  assert.match(res.body.error.message, /^Cannot advertise register "0+1": isPublic is required$/);
  assert.equal(peer.store.entries.size, 0);
});

Deno.test("withdrawing a malformed register id answers 400", async () => {
  await using peer = await createTestPeer();
  const res = await peer.call("DELETE", "/api/registers/not-hex/advertise");
  assert.equal(res.status, 400);
  assert.match(
    res.body.error.message,
    /^Cannot withdraw register "not-hex": registerId must be 32 hex characters$/,
  );
});

Deno.test("a body over the size limit answers 413 and changes nothing", async () => {
  const { AdvertisementRegistry } = await import("../../peer/advertisements/mod.ts");
  const { MemoryAdvertisementStore } = await import("../../peer/store/memory_store.ts");
  const { createPeerApp } = await import("../../peer/app.ts");
  const store = new MemoryAdvertisementStore();
  const registry = new AdvertisementRegistry(store, { ttlMs: 1000, graceMs: 0 });
  await registry.start();
  const app = createPeerApp({ registry, maxBodyBytes: 1024 });
  const advertisements = Array.from({ length: 100 }, (_, i) => item(i));
  const res = await app.request(BULK, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ advertisements }),
  });
  assert.equal(res.status, 413);
  assert.equal((await res.json()).error.code, "payload_too_large");
  assert.equal(store.entries.size, 0);
  await registry.close();
});

Deno.test("an unknown endpoint answers 404 with a JSON error", async () => {
  await using peer = await createTestPeer();
  const res = await peer.call("GET", "/api/nothing-here");
  assert.equal(res.status, 404);
  assert.deepEqual(res.body, {
    error: { code: "not_found", message: "No endpoint GET /api/nothing-here" },
  });
});
