/**
 * The peer's HTTP edges through `app.request()`: a wrong method on an
 * existing path is a 405 naming the path's methods in `Allow`; unknown JSON
 * fields are a 400 naming them; error messages cut the input they quote.
 */
import assert from "node:assert/strict";
import {
  AdvertisementItemSchema,
  BulkAdvertiseRequestSchema,
} from "../../shared/contracts/advertisements.ts";
import { createTestNetwork } from "./gossip_helpers.ts";
import { createTestPeer, item, rid } from "./helpers.ts";

const BULK = "/api/registers/bulk-advertise";
/** The fields a bulk body and item take: the schemas' own (a field added to them is listed too). */
const BULK_FIELDS = Object.keys(BulkAdvertiseRequestSchema.shape).join(", ");
const ITEM_FIELDS = Object.keys(AdvertisementItemSchema.shape).join(", ");

Deno.test("a wrong method on an existing peer path is a 405 listing the path's methods in Allow", async () => {
  await using peer = await createTestPeer();
  const cases: [string, string, string][] = [
    ["GET", BULK, "POST"],
    ["PUT", `/api/registers/${rid(1)}/advertise`, "POST, DELETE"],
    ["DELETE", "/api/registers/available", "GET, HEAD"],
    ["POST", "/api/registers/sync-state", "GET, HEAD"],
    ["POST", "/healthz", "GET, HEAD"],
    ["PATCH", "/openapi.json", "GET, HEAD"],
  ];
  for (const [method, path, allow] of cases) {
    const res = await peer.app.request(path, { method });
    assert.equal(res.status, 405, `${method} ${path}`);
    assert.equal(res.headers.get("allow"), allow, `${method} ${path}`);
    assert.deepEqual(await res.json(), {
      error: {
        code: "method_not_allowed",
        message: `${method} ${path}: this path takes ${allow} only`,
        details: { allow: allow.split(", ") },
      },
    });
  }
  assert.equal(peer.store.entries.size, 0, "nothing was written");
});

Deno.test("a path the peer does not serve is still a 404, whatever the method", async () => {
  await using peer = await createTestPeer();
  for (const path of ["/api/registers/nothing/here", "/api/registers/available/"]) {
    for (const method of ["GET", "POST", "DELETE"]) {
      const res = await peer.app.request(path, { method });
      assert.equal(res.status, 404, `${method} ${path}`);
      assert.equal(res.headers.get("allow"), null);
      assert.equal((await res.json()).error.code, "not_found");
    }
  }
});

Deno.test("unknown JSON fields on the peer's bodies are a 400 naming them, and nothing changes", async () => {
  await using peer = await createTestPeer();
  const cases: [string, string, unknown, string][] = [
    [
      "a bulk body",
      BULK,
      { advertisements: [item(1)], fullsync: true },
      `Cannot bulk-advertise registers: unknown field "fullsync" (expected ${BULK_FIELDS})`,
    ],
    [
      "a bulk item",
      BULK,
      { advertisements: [item(1), { ...item(2), public: true }] },
      `Cannot bulk-advertise registers: advertisements[1] unknown field "public" (expected ${ITEM_FIELDS})`,
    ],
    [
      "a single advertisement",
      `/api/registers/${rid(3)}/advertise`,
      { isPublic: true, latestversion: 4 },
      `Cannot advertise register "${
        rid(3)
      }": unknown field "latestversion" (expected isPublic, latestVersion, latestDocketVersion)`,
    ],
  ];
  assert.match(BULK_FIELDS, /^advertisements, fullSync\b/);
  assert.equal(ITEM_FIELDS, "registerId, isPublic, latestVersion, latestDocketVersion");
  for (const [what, path, body, message] of cases) {
    const res = await peer.call("POST", path, body);
    assert.equal(res.status, 400, what);
    assert.deepEqual(res.body.error.code, "invalid_argument", what);
    assert.equal(res.body.error.message, message, what);
  }
  assert.equal(peer.store.entries.size, 0, "nothing was stored");
  assert.deepEqual((await peer.call("GET", "/api/registers/available")).body, []);
});

Deno.test("peer error messages cut the input they quote to 100 characters, with its length", async () => {
  await using peer = await createTestPeer();
  const longId = "z".repeat(60_000);
  const advertise = await peer.call("POST", `/api/registers/${longId}/advertise`, {
    isPublic: true,
  });
  assert.equal(advertise.status, 400);
  assert.equal(
    advertise.body.error.message,
    `Cannot advertise register "${
      "z".repeat(100)
    }…" (60000 characters): registerId must be 32 hex characters`,
  );
  const withdraw = await peer.call("DELETE", `/api/registers/${longId}/advertise`);
  assert.match(
    withdraw.body.error.message,
    /^Cannot withdraw register "z{100}…" \(60000 characters\): /,
  );

  const longField = "f".repeat(60_000);
  const many = Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`x${i}`, i]));
  const unknown = await peer.call("POST", BULK, {
    advertisements: [],
    [longField]: 1,
    ...many,
  });
  assert.equal(unknown.status, 400);
  assert.equal(
    unknown.body.error.message,
    `Cannot bulk-advertise registers: unknown field "${
      "f".repeat(100)
    }…" (60000 characters), "x0", "x1", "x2", "x3" and 996 more (expected ${BULK_FIELDS})`,
  );

  const nowhere = await peer.app.request(`/api/${longId}`);
  const body = await nowhere.json();
  assert.equal(nowhere.status, 404);
  assert.equal(body.error.message, `No endpoint GET /api/${"z".repeat(95)}… (60005 characters)`);

  const contentType = `text/${"p".repeat(60_000)}`;
  const typed = await peer.app.request(`/api/registers/${rid(1)}/advertise`, {
    method: "POST",
    headers: { "content-type": contentType },
    body: "{}",
  });
  assert.equal(typed.status, 415);
  assert.equal(
    (await typed.json()).error.message,
    `POST /api/registers/${rid(1)}/advertise: the body must be JSON sent with ` +
      `"Content-Type: application/json" (got "text/${"p".repeat(95)}…" (60005 characters))`,
  );
  assert.equal(peer.store.entries.size, 0, "nothing was stored");
});

Deno.test("forgetting a peer by an id of 60,000 characters is a 400 quoting it cut", async () => {
  await using network = createTestNetwork();
  const alpha = await network.add("alpha");
  const res = await alpha.call("DELETE", `/api/peers/${"p".repeat(60_000)}`);
  assert.equal(res.status, 400);
  assert.match(
    res.body.error.message,
    new RegExp(`^Cannot forget peer "p{100}…" \\(60000 characters\\): peerId must be`),
  );
});
