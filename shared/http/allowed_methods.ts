/**
 * The methods an app serves on a path, for answering a wrong method on an
 * existing path with 405 and an `Allow` header instead of 404.
 *
 * @module
 */
import { TrieRouter } from "hono/router/trie-router";

/** A route as `app.routes` lists it. */
export interface RouteEntry {
  /** `GET`, `POST`, …, or `ALL` for middleware (`app.use`). */
  method: string;
  /** The route's path pattern (`/api/registers/:id`). */
  path: string;
}

/** Methods in the order `Allow` lists them; others follow, sorted. */
const ORDER = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

function byOrder(a: string, b: string): number {
  const ia = ORDER.indexOf(a);
  const ib = ORDER.indexOf(b);
  if (ia >= 0 && ib >= 0) return ia - ib;
  if (ia >= 0) return -1;
  if (ib >= 0) return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Finds the methods of a path among the routes of an app that may still get
 * routes: the matcher is rebuilt when the number of routes changes.
 */
export class AllowedMethods {
  readonly #routes: () => readonly RouteEntry[];
  #router: TrieRouter<string> | undefined;
  #count = -1;

  /** `routes` gives the app's routes as they are now (`() => app.routes`). */
  constructor(routes: () => readonly RouteEntry[]) {
    this.#routes = routes;
  }

  /**
   * The methods served on `path`, in `Allow` order (`HEAD` with `GET`, which
   * Hono serves for it); empty when no route has this path. Middleware
   * (`ALL`) is not a method served.
   */
  of(path: string): string[] {
    const methods = new Set<string>();
    for (const [method] of this.#matcher().match("ANY", path)[0]) {
      methods.add(method);
      if (method === "GET") methods.add("HEAD");
    }
    return [...methods].sort(byOrder);
  }

  #matcher(): TrieRouter<string> {
    const routes = this.#routes();
    if (this.#router === undefined || this.#count !== routes.length) {
      const router = new TrieRouter<string>();
      for (const route of routes) {
        if (route.method !== "ALL") router.add("ANY", route.path, route.method.toUpperCase());
      }
      this.#router = router;
      this.#count = routes.length;
    }
    return this.#router;
  }
}
