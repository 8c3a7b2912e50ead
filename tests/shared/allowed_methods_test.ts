import assert from "node:assert/strict";
import { AllowedMethods, type RouteEntry } from "../../shared/http/allowed_methods.ts";

const routes: RouteEntry[] = [
  { method: "ALL", path: "/api/*" },
  { method: "GET", path: "/api/registers" },
  { method: "POST", path: "/api/registers" },
  { method: "DELETE", path: "/api/registers/:id" },
  { method: "GET", path: "/api/registers/:id" },
  { method: "PATCH", path: "/api/registers/:id" },
];

Deno.test("the methods of a path come in Allow order, HEAD with GET, middleware left out", () => {
  const allowed = new AllowedMethods(() => routes);
  assert.deepEqual(allowed.of("/api/registers"), ["GET", "HEAD", "POST"]);
  assert.deepEqual(allowed.of("/api/registers/abc"), ["GET", "HEAD", "PATCH", "DELETE"]);
  assert.deepEqual(allowed.of("/api/other"), [], "only middleware matches it");
  assert.deepEqual(allowed.of("/nothing"), []);
});

Deno.test("paths match as the app routes them: a trailing slash is another path", () => {
  const allowed = new AllowedMethods(() => routes);
  assert.deepEqual(allowed.of("/api/registers/"), []);
  assert.deepEqual(allowed.of("/api/registers/abc/def"), []);
});

Deno.test("routes added after the first lookup are found", () => {
  const live = [...routes];
  const allowed = new AllowedMethods(() => live);
  assert.deepEqual(allowed.of("/api/resync"), []);
  live.push({ method: "POST", path: "/api/resync" });
  assert.deepEqual(allowed.of("/api/resync"), ["POST"]);
});
