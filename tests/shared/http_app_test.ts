import assert from "node:assert/strict";
import { createTestPeer, item } from "../peer/helpers.ts";
import { secretsEqual } from "../../shared/http/auth.ts";

Deno.test("healthz answers 200 with the service's name", async () => {
  await using peer = await createTestPeer();
  const res = await peer.call("GET", "/healthz");
  assert.equal(res.status, 200);
  assert.equal(res.body.status, "ok");
  assert.equal(res.body.service, "peer");
});

Deno.test("openapi.json documents every advertisement endpoint and the bearer scheme", async () => {
  await using peer = await createTestPeer();
  const doc = (await peer.call("GET", "/openapi.json")).body;
  assert.equal(doc.openapi, "3.1.0");
  for (
    const path of [
      "/api/registers/bulk-advertise",
      "/api/registers/available",
      "/api/registers/{registerId}/advertise",
      "/api/registers/sync-state",
    ]
  ) {
    assert.ok(doc.paths[path], `${path} is documented`);
  }
  assert.ok(doc.paths["/api/registers/{registerId}/advertise"].delete);
  assert.ok(doc.components.schemas.BulkAdvertiseRequest);
  assert.ok(doc.components.schemas.AvailableRegisterInfo);
  assert.equal(doc.components.securitySchemes.bearer.scheme, "bearer");
});

Deno.test("the docs page and its assets are served locally, with no CDN", async () => {
  await using peer = await createTestPeer();
  const page = await peer.app.request("/docs");
  assert.equal(page.status, 200);
  const html = await page.text();
  assert.doesNotMatch(html, /https?:\/\//, "no external resource");
  for (const asset of ["/docs/swagger-ui.css", "/docs/swagger-ui-bundle.js", "/docs/init.js"]) {
    assert.match(html, new RegExp(asset.replaceAll(".", "\\.")));
    const res = await peer.app.request(asset);
    assert.equal(res.status, 200, asset);
    assert.ok((await res.text()).length > 50, `${asset} has content`);
  }
});

Deno.test("with API_TOKEN set, state-changing endpoints need the bearer token and reads do not", async () => {
  await using peer = await createTestPeer({ apiToken: "s3cret" });
  const body = { advertisements: [item(1)] };
  const none = await peer.call("POST", "/api/registers/bulk-advertise", body);
  assert.equal(none.status, 401);
  assert.equal(none.body.error.code, "unauthenticated");
  const wrong = await peer.call("POST", "/api/registers/bulk-advertise", body, {
    authorization: "Bearer nope",
  });
  assert.equal(wrong.status, 403);
  assert.equal(wrong.body.error.code, "permission_denied");
  const del = await peer.call("DELETE", `/api/registers/${"a".repeat(32)}/advertise`);
  assert.equal(del.status, 401);
  assert.equal(peer.store.entries.size, 0, "refused requests changed nothing");
  assert.equal((await peer.call("GET", "/api/registers/available")).status, 200);
  const ok = await peer.call("POST", "/api/registers/bulk-advertise", body, {
    authorization: "Bearer s3cret",
  });
  assert.equal(ok.status, 200);
  assert.equal(ok.body.added, 1);
});

Deno.test("secrets are compared whatever their lengths", async () => {
  assert.equal(await secretsEqual("abc", "abc"), true);
  assert.equal(await secretsEqual("abc", "abcd"), false);
  assert.equal(await secretsEqual("", "abc"), false);
});
