/**
 * The register service's HTTP edges through `app.request()`: a wrong method
 * on an existing path is a 405 naming the path's methods in `Allow`; error
 * messages cut the input they quote.
 */
import assert from "node:assert/strict";
import { createTestNetwork } from "./helpers.ts";

Deno.test("a wrong method on an existing register path is a 405 listing the path's methods in Allow", async () => {
  await using net = await createTestNetwork();
  const { body: created } = await net.call("POST", "/api/registers", {
    name: "r",
    advertise: true,
  });
  const calls = net.peerCalls.length;
  const cases: [string, string, string][] = [
    ["POST", `/api/registers/${created.id}`, "GET, HEAD, PATCH, DELETE"],
    ["PUT", `/api/registers/${created.id}`, "GET, HEAD, PATCH, DELETE"],
    ["PUT", "/api/registers", "GET, HEAD, POST"],
    ["DELETE", "/api/registers", "GET, HEAD, POST"],
    ["GET", "/api/resync", "POST"],
    ["POST", "/api/resync/status", "GET, HEAD"],
    ["DELETE", "/readyz", "GET, HEAD"],
  ];
  for (const [method, path, allow] of cases) {
    const res = await net.register.request(path, {
      method,
      headers: { "content-type": "application/json" },
      body: method === "GET" ? undefined : JSON.stringify({ name: "x", advertise: false }),
    });
    assert.equal(res.status, 405, `${method} ${path}`);
    assert.equal(res.headers.get("allow"), allow, `${method} ${path}`);
    const body = await res.json();
    assert.equal(body.error.code, "method_not_allowed");
    assert.equal(body.error.message, `${method} ${path}: this path takes ${allow} only`);
  }
  assert.deepEqual((await net.call("GET", "/api/registers")).body, [created], "nothing changed");
  assert.equal(net.peerCalls.length, calls, "the peer was not called");
});

Deno.test("with API_TOKEN set, a wrong method that changes state is refused for the token first", async () => {
  await using net = await createTestNetwork({ apiToken: "s3cret" });
  const res = await net.register.request("/api/registers", { method: "PUT" });
  assert.equal(res.status, 401);
  const authorized = await net.register.request("/api/registers", {
    method: "PUT",
    headers: { authorization: "Bearer s3cret" },
  });
  assert.equal(authorized.status, 405);
  assert.equal(authorized.headers.get("allow"), "GET, HEAD, POST");
});

Deno.test("register error messages cut the input they quote to 100 characters, with its length", async () => {
  await using net = await createTestNetwork();
  const longId = "a".repeat(60_000);
  const verbs: [string, string][] = [["GET", "read"], ["PATCH", "change"], ["DELETE", "delete"]];
  for (const [method, verb] of verbs) {
    const body = method === "PATCH" ? { name: "x" } : undefined;
    const res = await net.call(method, `/api/registers/${longId}`, body);
    assert.equal(res.status, 400, method);
    assert.equal(
      res.body.error.message,
      `Cannot ${verb} register "${
        "a".repeat(100)
      }…" (60000 characters): id must be 32 hex characters`,
    );
  }
  const longField = "n".repeat(60_000);
  const unknown = await net.call("POST", "/api/registers", {
    name: "r",
    advertise: true,
    [longField]: true,
  });
  assert.equal(unknown.status, 400);
  assert.equal(
    unknown.body.error.message,
    `Cannot create register: unknown field "${
      "n".repeat(100)
    }…" (60000 characters) (expected name, advertise, isPublic)`,
  );
  assert.equal(unknown.body.error.details.issues[0].field, "");
  assert.deepEqual((await net.call("GET", "/api/registers")).body, [], "nothing was stored");
});
