/**
 * The baseline for the `available` benchmark: a bare `Deno.serve` handler
 * returning fixed bytes (read from `BODY_FILE`) on `PORT`.
 *
 * @module
 */
const body = await Deno.readFile(Deno.env.get("BODY_FILE")!);
Deno.serve(
  { hostname: "127.0.0.1", port: Number(Deno.env.get("PORT")), onListen: () => {} },
  (request) => {
    if (new URL(request.url).pathname === "/readyz") return new Response("ok");
    return new Response(body, { headers: { "content-type": "application/json" } });
  },
);
