/**
 * The register HTTP API through `app.request()`: create, list, read, change,
 * delete; malformed input is a 400 that names the field and changes nothing;
 * a missing register is a 404; API_TOKEN protects every change.
 */
import assert from "node:assert/strict";
import { createTestNetwork } from "./helpers.ts";

Deno.test("creating a register answers 201 with a generated 32-hex id and its fields", async () => {
  await using net = await createTestNetwork();
  const { status, body } = await net.call("POST", "/api/registers", {
    name: "  Land titles ",
    advertise: true,
  });
  assert.equal(status, 201);
  assert.match(body.id, /^[0-9a-f]{32}$/);
  assert.deepEqual(body, {
    id: body.id,
    name: "Land titles",
    advertise: true,
    isPublic: true,
    latestVersion: 0,
    latestDocketVersion: 0,
    createdAt: new Date(net.clock.now()).toISOString(),
    updatedAt: new Date(net.clock.now()).toISOString(),
  });
  assert.deepEqual((await net.call("GET", `/api/registers/${body.id}`)).body, body);
});

Deno.test("listing registers sorts them by id and filters by advertise", async () => {
  await using net = await createTestNetwork();
  const ids: string[] = [];
  for (const advertise of [true, false, true]) {
    ids.push((await net.call("POST", "/api/registers", { name: "r", advertise })).body.id);
  }
  const all = (await net.call("GET", "/api/registers")).body;
  assert.deepEqual(all.map((r: { id: string }) => r.id), [...ids].sort());
  const advertised = (await net.call("GET", "/api/registers?advertise=true")).body;
  assert.deepEqual(advertised.map((r: { id: string }) => r.id), [ids[0], ids[2]].sort());
  const bad = await net.call("GET", "/api/registers?advertise=yes");
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.message, "Cannot list registers: advertise must be true or false");
});

Deno.test("a register id is accepted in upper case", async () => {
  await using net = await createTestNetwork();
  const { body } = await net.call("POST", "/api/registers", { name: "r", advertise: false });
  const { status } = await net.call("GET", `/api/registers/${body.id.toUpperCase()}`);
  assert.equal(status, 200);
});

Deno.test("changing a register sets only the given fields and updatedAt", async () => {
  await using net = await createTestNetwork();
  const { body: created } = await net.call("POST", "/api/registers", {
    name: "r",
    advertise: false,
  });
  net.clock.advance(60_000);
  const { status, body } = await net.call("PATCH", `/api/registers/${created.id}`, {
    latestVersion: 5,
    name: "renamed",
  });
  assert.equal(status, 200);
  assert.deepEqual(body, {
    ...created,
    name: "renamed",
    latestVersion: 5,
    updatedAt: new Date(net.clock.now()).toISOString(),
  });
});

Deno.test("deleting a register answers it as it was, then it is gone", async () => {
  await using net = await createTestNetwork();
  const { body: created } = await net.call("POST", "/api/registers", {
    name: "r",
    advertise: true,
  });
  const deleted = await net.call("DELETE", `/api/registers/${created.id}`);
  assert.deepEqual(deleted, { status: 200, body: { deleted: created } });
  assert.equal((await net.call("GET", `/api/registers/${created.id}`)).status, 404);
});

Deno.test("a missing register is a 404 for read, change and delete", async () => {
  await using net = await createTestNetwork();
  const id = "a".repeat(32);
  for (
    const [method, body, verb] of [
      ["GET", undefined, "read"],
      ["PATCH", { name: "x" }, "change"],
      ["DELETE", undefined, "delete"],
    ] as const
  ) {
    const res = await net.call(method, `/api/registers/${id}`, body);
    assert.equal(res.status, 404, method);
    assert.deepEqual(res.body.error, {
      code: "not_found",
      message: `Cannot ${verb} register "${id}": no register has this id`,
    });
  }
  assert.deepEqual(net.peerCalls.filter((c) => !c.includes("bulk")), []);
});

const BAD_CREATES: [string, unknown, string][] = [
  ["no name", { advertise: true }, "name is required"],
  ["an empty name", { name: " ", advertise: true }, "name must be a string of 1 to 200 characters"],
  [
    "a name too long",
    { name: "x".repeat(201), advertise: true },
    "name must be a string of 1 to 200 characters",
  ],
  [
    "a name holding a NUL",
    { name: "evil \u0000 nul", advertise: true },
    "name must not contain control characters (U+0000 at index 5)",
  ],
  [
    "a name ending in a newline (checked before trimming)",
    { name: "Land titles\n", advertise: true },
    "name must not contain control characters (U+000A at index 11)",
  ],
  [
    "a name holding an unpaired surrogate",
    { name: "a\ud800b", advertise: true },
    "name must be well-formed Unicode (an unpaired surrogate U+D800 at index 1)",
  ],
  ["no advertise", { name: "r" }, "advertise is required"],
  ["advertise as a string", { name: "r", advertise: "yes" }, "advertise must be true or false"],
  [
    "isPublic as a number",
    { name: "r", advertise: true, isPublic: 1 },
    "isPublic must be true or false",
  ],
  [
    "an unknown field",
    { name: "r", advertise: true, advertized: true },
    'unknown field "advertized" (expected name, advertise, isPublic)',
  ],
  ["a list", [], "expected object, received array"],
];

for (const [what, body, message] of BAD_CREATES) {
  Deno.test(`creating a register with ${what} is a 400 that stores nothing`, async () => {
    await using net = await createTestNetwork();
    const res = await net.call("POST", "/api/registers", body);
    assert.equal(res.status, 400);
    assert.equal(res.body.error.code, "invalid_argument");
    assert.equal(res.body.error.message, `Cannot create register: ${message}`);
    assert.deepEqual((await net.call("GET", "/api/registers")).body, []);
  });
}

Deno.test("creating a register with a body that is not JSON is a 400 that stores nothing", async () => {
  await using net = await createTestNetwork();
  const res = await net.call("POST", "/api/registers", "{name:", {
    "content-type": "application/json",
  });
  assert.equal(res.status, 400);
  assert.match(res.body.error.message, /JSON/);
  assert.deepEqual((await net.call("GET", "/api/registers")).body, []);
});

const BAD_PATCHES: [string, unknown, string][] = [
  [
    "no field",
    {},
    "must change at least one of name, advertise, isPublic, latestVersion, latestDocketVersion",
  ],
  ["a negative version", { latestVersion: -1 }, "latestVersion must be a whole number from 0"],
  [
    "a fractional version",
    { latestDocketVersion: 1.5 },
    "latestDocketVersion must be a whole number from 0",
  ],
  ["advertise null", { advertise: null }, "advertise must be true or false"],
  [
    "a name holding an escape character",
    { name: "\u001b[31mred" },
    "name must not contain control characters (U+001B at index 0)",
  ],
  [
    "an unknown field",
    { id: "b".repeat(32) },
    'unknown field "id" (expected name, advertise, isPublic, latestVersion, latestDocketVersion)',
  ],
];

for (const [what, body, message] of BAD_PATCHES) {
  Deno.test(`changing a register with ${what} is a 400 that changes nothing`, async () => {
    await using net = await createTestNetwork();
    const { body: created } = await net.call("POST", "/api/registers", {
      name: "r",
      advertise: true,
    });
    const calls = net.peerCalls.length;
    const res = await net.call("PATCH", `/api/registers/${created.id}`, body);
    assert.equal(res.status, 400);
    assert.equal(res.body.error.message, `Cannot change register "${created.id}": ${message}`);
    assert.deepEqual((await net.call("GET", `/api/registers/${created.id}`)).body, created);
    assert.equal(net.peerCalls.length, calls, "the peer was not called");
  });
}

Deno.test("a malformed register id is a 400 naming the id", async () => {
  await using net = await createTestNetwork();
  for (const method of ["GET", "DELETE"]) {
    const res = await net.call(method, "/api/registers/not-an-id");
    assert.equal(res.status, 400);
    assert.match(
      res.body.error.message,
      /^Cannot (read|delete) register "not-an-id": id must be 32 hex characters$/,
    );
  }
});

Deno.test("with API_TOKEN set every change needs the bearer token and reads stay open", async () => {
  await using net = await createTestNetwork({ apiToken: "s3cret" });
  const body = { name: "r", advertise: false };
  assert.equal((await net.call("POST", "/api/registers", body)).status, 401);
  assert.equal(
    (await net.call("POST", "/api/registers", body, { authorization: "Bearer nope" })).status,
    403,
  );
  const ok = await net.call("POST", "/api/registers", body, { authorization: "Bearer s3cret" });
  assert.equal(ok.status, 201);
  assert.equal(
    (await net.call("PATCH", `/api/registers/${ok.body.id}`, { name: "x" })).status,
    401,
  );
  assert.equal((await net.call("DELETE", `/api/registers/${ok.body.id}`)).status, 401);
  assert.equal((await net.call("POST", "/api/resync")).status, 401);
  assert.equal((await net.call("GET", "/api/registers")).body.length, 1);
  assert.equal((await net.call("GET", "/api/resync/status")).status, 200);
});

Deno.test("POST /api/resync runs a full sync and answers the status with the peer's counts", async () => {
  await using net = await createTestNetwork();
  await net.sync.settled();
  await net.call("POST", "/api/registers", { name: "r", advertise: true });
  const { status, body } = await net.call("POST", "/api/resync");
  assert.equal(status, 200);
  assert.equal(body.lastStatus, "succeeded");
  assert.equal(body.lastTrigger, "manual");
  assert.equal(body.registerCount, 1);
  assert.deepEqual(body.lastResult, {
    processed: 1,
    added: 0,
    updated: 0,
    removed: 0,
    unchanged: 1,
    persisted: true,
  });
  assert.deepEqual((await net.call("GET", "/api/resync/status")).body, body);
});

Deno.test("POST /api/resync with the peer unreachable is a 503 saying why, and retries follow", async () => {
  await using net = await createTestNetwork({ peerDown: true });
  const { status, body } = await net.call("POST", "/api/resync");
  assert.equal(status, 503);
  assert.equal(body.error.code, "unavailable");
  assert.match(
    body.error.message,
    /^Cannot bulk-advertise registers: cannot reach the peer at http:\/\/peer\.test: /,
  );
  const state = (await net.call("GET", "/api/resync/status")).body;
  assert.equal(state.lastStatus, "failed");
  assert.equal(state.retrying, true);
});

Deno.test("a peer refusing the register's token shows as a failed sync naming the token", async () => {
  await using net = await createTestNetwork({ peerApiToken: "right", tokenForPeer: "wrong" });
  await net.scheduler.nextSleep();
  const state = (await net.call("GET", "/api/resync/status")).body;
  assert.equal(state.lastStatus, "failed");
  assert.match(state.lastError, /answered 403: .*bearer token is not valid/);
  const ready = await net.call("GET", "/readyz");
  assert.equal(ready.status, 200);
  assert.equal(ready.body.dependencies.peer.state, "degraded");
});

Deno.test("readyz names the store and the peer, and the OpenAPI document lists every endpoint", async () => {
  await using net = await createTestNetwork();
  await net.sync.settled();
  const ready = await net.call("GET", "/readyz");
  assert.equal(ready.status, 200);
  assert.deepEqual(ready.body.dependencies, {
    store: { state: "ok", kind: "sqlite" },
    peer: { state: "ok", url: "http://peer.test" },
  });
  const doc = (await net.call("GET", "/openapi.json")).body;
  assert.deepEqual(Object.keys(doc.paths).sort(), [
    "/api/registers",
    "/api/registers/{id}",
    "/api/resync",
    "/api/resync/status",
  ]);
  assert.equal((await net.register.request("/docs")).status, 200);
});

Deno.test("readyz answers 503 when the store is down", async () => {
  await using net = await createTestNetwork();
  await net.store.close();
  const ready = await net.call("GET", "/readyz");
  assert.equal(ready.status, 503);
  assert.equal(ready.body.dependencies.store.state, "down");
});
