/**
 * The hub's HTTP edges through `app.request()`: a wrong method on an
 * existing path is a 405 naming the path's methods in `Allow`; a publisher
 * or labels holding control characters or unpaired surrogates are a 400
 * (the store would change them silently); error messages cut the input they
 * quote.
 */
import assert from "node:assert/strict";
import { callApp } from "../fixtures/http.ts";
import { startTestHub } from "./hub_fixture.ts";

const BLUEPRINTS = "/api/system-register/blueprints";

Deno.test("a wrong method on an existing hub path is a 405 listing the path's methods in Allow", async () => {
  await using hub = await startTestHub();
  const cases: [string, string, string][] = [
    ["DELETE", BLUEPRINTS, "GET, HEAD, POST"],
    ["PUT", "/api/system-register", "GET, HEAD"],
    ["POST", `${BLUEPRINTS}/register-creation-v1`, "GET, HEAD"],
    ["DELETE", `${BLUEPRINTS}/register-creation-v1`, "GET, HEAD"],
    ["POST", "/api/peers", "GET, HEAD"],
    ["POST", "/api/node/info", "GET, HEAD"],
  ];
  for (const [method, path, allow] of cases) {
    const res = await hub.app.request(path, { method });
    assert.equal(res.status, 405, `${method} ${path}`);
    assert.equal(res.headers.get("allow"), allow, `${method} ${path}`);
    const body = await res.json();
    assert.equal(body.error.code, "method_not_allowed");
    assert.equal(body.error.message, `${method} ${path}: this path takes ${allow} only`);
  }
  assert.equal((await hub.app.request("/api/no-such-thing", { method: "PUT" })).status, 404);
  assert.equal(hub.register.version, 1, "nothing was published");
});

Deno.test("a publisher or labels holding control characters or unpaired surrogates are a 400 and nothing is stored", async () => {
  await using hub = await startTestHub();
  const cases: [string, Record<string, unknown>, string][] = [
    [
      "a publisher holding a NUL",
      { publishedBy: "evil \u0000 nul" },
      "publishedBy must not contain control characters (U+0000 at index 5)",
    ],
    [
      "a publisher holding an unpaired surrogate",
      { publishedBy: "ops \udc00" },
      "publishedBy must be well-formed Unicode (an unpaired surrogate U+DC00 at index 4)",
    ],
    [
      "a label key holding a NUL",
      { metadata: { "cat\u0000": "x" } },
      'metadata key "cat\\u0000" must not contain control characters (U+0000 at index 3)',
    ],
    [
      "a label value holding a C1 control",
      { metadata: { category: "land\u0085" } },
      "metadata.category must not contain control characters (U+0085 at index 4)",
    ],
  ];
  for (const [what, fields, message] of cases) {
    const res = await callApp(hub.app, {
      method: "POST",
      path: BLUEPRINTS,
      body: { blueprintId: "bp-1", document: { title: "t" }, ...fields },
    });
    assert.equal(res.status, 400, `${what}: ${JSON.stringify(res.body)}`);
    assert.equal(res.body.error.code, "invalid_argument", what);
    assert.equal(res.body.error.message, `Cannot publish blueprint: ${message}`, what);
  }
  assert.equal(hub.register.version, 1, "nothing was published");
  const fine = await callApp(hub.app, {
    method: "POST",
    path: BLUEPRINTS,
    body: {
      blueprintId: "bp-1",
      document: { title: "t\u0000 inside the document is fine: it is stored as JSON" },
      publishedBy: "Zoë 😀 ops",
      metadata: { "catégorie": "terre ✓" },
    },
  });
  assert.equal(fine.status, 201, JSON.stringify(fine.body));
  assert.equal(fine.body.publishedBy, "Zoë 😀 ops");
  const read = await callApp(hub.app, { method: "GET", path: `${BLUEPRINTS}/bp-1` });
  assert.equal(read.body.publishedBy, "Zoë 😀 ops");
  assert.deepEqual(read.body.metadata, { "catégorie": "terre ✓" });
});

Deno.test("hub error messages cut the input they quote to 100 characters, with its length", async () => {
  await using hub = await startTestHub();
  const longKey = "k".repeat(60_000);
  const label = await callApp(hub.app, {
    method: "POST",
    path: BLUEPRINTS,
    body: { blueprintId: "bp-1", document: {}, metadata: { [longKey]: 1 } },
  });
  assert.equal(label.status, 400);
  assert.equal(
    label.body.error.message,
    `Cannot publish blueprint: metadata.${
      "k".repeat(100)
    }… (60000 characters) values must be strings`,
  );
  const unknown = await callApp(hub.app, {
    method: "POST",
    path: BLUEPRINTS,
    body: { blueprintId: "bp-1", document: {}, [longKey]: 1 },
  });
  assert.equal(
    unknown.body.error.message,
    `Cannot publish blueprint: unknown field "${
      "k".repeat(100)
    }…" (60000 characters) (expected blueprintId, document, publishedBy, metadata)`,
  );
  const nowhere = await hub.app.request(`/api/${longKey}`, { method: "DELETE" });
  assert.equal(nowhere.status, 404);
  assert.equal(
    (await nowhere.json()).error.message,
    `No endpoint DELETE /api/${"k".repeat(95)}… (60005 characters)`,
  );
  assert.equal(hub.register.version, 1, "nothing was published");
});
