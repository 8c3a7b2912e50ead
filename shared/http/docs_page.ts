/**
 * The `/docs` API reference page: Swagger UI served from the npm package
 * `swagger-ui-dist`, so the page works with no network access (no CDN).
 *
 * @module
 */
import swaggerUiDist from "swagger-ui-dist";
import type { OpenAPIHono } from "@hono/zod-openapi";

const ASSETS: Record<string, string> = {
  "swagger-ui.css": "text/css; charset=utf-8",
  "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
};

const cache = new Map<string, Promise<string>>();

function asset(name: string): Promise<string> {
  let text = cache.get(name);
  if (!text) {
    // swagger-ui-dist is CommonJS; its default export carries getAbsoluteFSPath().
    const dir = (swaggerUiDist as { getAbsoluteFSPath(): string }).getAbsoluteFSPath();
    text = Deno.readTextFile(`${dir}/${name}`);
    cache.set(name, text);
  }
  return text;
}

function page(title: string, specUrl: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>`.replace("SPEC", specUrl);
}

/** Adds `/docs` and its assets to an app; the page reads the document at `specUrl`. */
export function addDocsPage(app: OpenAPIHono, options: { title: string; specUrl: string }): void {
  app.get("/docs", (c) => c.html(page(options.title, options.specUrl)));
  app.get("/docs/init.js", (c) =>
    c.body(
      `window.ui = SwaggerUIBundle({ url: ${
        JSON.stringify(options.specUrl)
      }, dom_id: "#swagger-ui", deepLinking: true, persistAuthorization: true });`,
      200,
      { "content-type": "text/javascript; charset=utf-8" },
    ));
  for (const [name, type] of Object.entries(ASSETS)) {
    app.get(`/docs/${name}`, async (c) =>
      c.body(await asset(name), 200, {
        "content-type": type,
        "cache-control": "public, max-age=86400",
      }));
  }
}
