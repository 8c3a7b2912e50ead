/**
 * The admin page's files, kept in `assets/` and compiled into the service
 * (text imports: no build step, and `deno compile` takes them along), each
 * with its content type.
 *
 * @module
 */
import indexHtml from "./assets/index.html" with { type: "text" };
import appJs from "./assets/app.js" with { type: "text" };
import viewsJs from "./assets/views.js" with { type: "text" };
import statusViewsJs from "./assets/status_views.js" with { type: "text" };
import domJs from "./assets/dom.js" with { type: "text" };
import styleCss from "./assets/style.css" with { type: "text" };

/** A file served as it is. */
export interface Asset {
  /** Its content. */
  body: string;
  /** Its `content-type`. */
  contentType: string;
}

/** The page itself. */
export const PAGE: Asset = { body: indexHtml, contentType: "text/html; charset=utf-8" };

/** The page's scripts and style sheet by file name, served under `/admin/assets/`. */
export const ASSETS: ReadonlyMap<string, Asset> = new Map([
  ["app.js", { body: appJs, contentType: "text/javascript; charset=utf-8" }],
  ["views.js", { body: viewsJs, contentType: "text/javascript; charset=utf-8" }],
  ["status_views.js", { body: statusViewsJs, contentType: "text/javascript; charset=utf-8" }],
  ["dom.js", { body: domJs, contentType: "text/javascript; charset=utf-8" }],
  ["style.css", { body: styleCss, contentType: "text/css; charset=utf-8" }],
]);

/**
 * The page's content security policy: everything from this peer only (no CDN,
 * no external font, no inline script), so it works offline and cannot be
 * framed.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join("; ");
