/**
 * The HTTP app every service starts from: `/healthz`, `/readyz`,
 * `/openapi.json`, `/docs`, JSON errors `{"error": {"code", "message"}}`
 * (a wrong method on a path that exists is a 405 with `Allow`; messages cut
 * the input they quote), a body size limit, and bearer-token protection of
 * state-changing endpoints when an API token is configured.
 *
 * @module
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import type { Hook } from "@hono/zod-openapi";
import type { Context, Env } from "hono";
import { HTTPException } from "hono/http-exception";
import { bodyLimit } from "hono/body-limit";
import type { Logger } from "@logtape/logtape";
import { AppError, codeForHttpStatus, toAppError } from "../errors.ts";
import { quoteInput, shortenInput } from "../quote.ts";
import { AllowedMethods } from "./allowed_methods.ts";
import { requireTokenForChanges } from "./auth.ts";
import { addDocsPage } from "./docs_page.ts";
import { addMetricsEndpoint, type MetricsEndpointOptions } from "./metrics_route.ts";
import { invalidArgument } from "./validation.ts";

/** The state of one dependency as `/readyz` reports it. */
export interface DependencyState {
  /** `ok`, or what is wrong: `degraded` still serves, `down` and `starting` do not. */
  state: "ok" | "degraded" | "down" | "starting";
  /** Anything else worth showing an operator. */
  [detail: string]: unknown;
}

/** What `/readyz` answers: ready or not, and each dependency's state. */
export interface Readiness {
  /** Whether the service serves requests. */
  ready: boolean;
  /** Each dependency by name. */
  dependencies: Record<string, DependencyState>;
}

/** Options of {@link createHttpApp}. */
export interface HttpAppOptions {
  /** The service's name (`peer`, `register`, `hub`), shown in `/healthz` and the OpenAPI title. */
  service: string;
  /** The service's version, shown in `/healthz` and the OpenAPI document. */
  version: string;
  /** One line describing the API, for the OpenAPI document. */
  description?: string;
  /** Reports readiness for `/readyz`. */
  readiness: () => Readiness | Promise<Readiness>;
  /** When set, POST, PUT, PATCH and DELETE need `Authorization: Bearer <apiToken>`. */
  apiToken?: string | undefined;
  /** Paths (prefixes) guarded by a credential of their own instead of the API token. */
  apiTokenExempt?: readonly string[];
  /** Largest request body accepted, in bytes (default 16 MiB). */
  maxBodyBytes?: number;
  /** Where unexpected errors are logged. */
  logger?: Logger;
  /** What `GET /metrics` serves; without it the service has no `/metrics`. */
  metrics?: MetricsEndpointOptions;
}

/** The app type services extend with their routes. */
export type HttpApp = OpenAPIHono;

/**
 * A validation hook for one route: a failure becomes a 400 whose message
 * starts with `action` (for example `Cannot advertise register "x"`).
 */
export function rejectInvalid<I, E extends Env, P extends string>(
  action: string | ((c: Context) => string),
): Hook<I, E, P, undefined> {
  return (result, c) => {
    if (!result.success) {
      throw invalidArgument(typeof action === "string" ? action : action(c), result.error);
    }
    return undefined;
  };
}

/** `METHOD /path` of a request, for messages: both cut when long (they are the client's input). */
export function requestLine(c: Context): string {
  return `${shortenInput(c.req.method)} ${shortenInput(c.req.path)}`;
}

/** The JSON error response for any thrown value. */
export function errorResponse(error: unknown, c: Context, logger?: Logger): Response {
  let appError: AppError;
  if (error instanceof AppError) {
    appError = error;
  } else if (error instanceof HTTPException) {
    const status = error.status;
    const message = status === 413
      ? `Request body is larger than the limit`
      : status === 415
      ? `the body must be JSON sent with "Content-Type: application/json" (got ${
        quoteInput(c.req.header("content-type") ?? "no Content-Type")
      })`
      : error.message || `Request failed with status ${status}`;
    appError = new AppError(codeForHttpStatus(status), `${requestLine(c)}: ${message}`);
  } else {
    appError = toAppError(error);
  }
  if (appError.code === "internal") {
    logger?.error("Unexpected error on {method} {path}: {error}", {
      method: shortenInput(c.req.method),
      path: shortenInput(c.req.path),
      error: error instanceof Error ? (error.stack ?? error.message) : String(error),
    });
  }
  return c.json(appError.toJSON(), appError.httpStatus as 400);
}

/** Creates the app with the shared endpoints and behaviour; services add their routes to it. */
export function createHttpApp(options: HttpAppOptions): HttpApp {
  const app = new OpenAPIHono({
    defaultHook: (result, c) => {
      if (!result.success) {
        throw invalidArgument(`Invalid request to ${requestLine(c)}`, result.error);
      }
    },
  });
  const maxBodyBytes = options.maxBodyBytes ?? 16 * 1024 * 1024;

  app.onError((error, c) => errorResponse(error, c, options.logger));
  // A path served with other methods is a 405 naming them in `Allow`; any other is a 404.
  const allowed = new AllowedMethods(() => app.routes);
  app.notFound((c) => {
    const methods = allowed.of(c.req.path);
    if (methods.length === 0 || methods.includes(c.req.method)) {
      return errorResponse(new AppError("not_found", `No endpoint ${requestLine(c)}`), c);
    }
    c.header("Allow", methods.join(", "));
    return errorResponse(
      new AppError(
        "method_not_allowed",
        `${requestLine(c)}: this path takes ${methods.join(", ")} only`,
        { details: { allow: methods } },
      ),
      c,
    );
  });
  app.use(
    "/api/*",
    bodyLimit({
      maxSize: maxBodyBytes,
      onError: (c) =>
        errorResponse(
          new AppError(
            "payload_too_large",
            `${requestLine(c)}: request body is larger than ${maxBodyBytes} bytes`,
          ),
          c,
        ),
    }),
  );
  app.use(
    "/api/*",
    requireTokenForChanges(options.apiToken, { except: options.apiTokenExempt ?? [] }),
  );

  app.get(
    "/healthz",
    (c) => c.json({ status: "ok", service: options.service, version: options.version }),
  );
  app.get("/readyz", async (c) => {
    const readiness = await options.readiness();
    return c.json(
      { status: readiness.ready ? "ready" : "not ready", service: options.service, ...readiness },
      readiness.ready ? 200 : 503,
    );
  });

  if (options.metrics) addMetricsEndpoint(app, options.metrics);

  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", {
    type: "http",
    scheme: "bearer",
    description: "The service's API_TOKEN, needed on state-changing endpoints when it is set.",
  });
  app.doc31("/openapi.json", {
    openapi: "3.1.0",
    info: {
      title: `Sorcha ${options.service} service`,
      version: options.version,
      ...(options.description ? { description: options.description } : {}),
    },
  });
  addDocsPage(app, { title: `Sorcha ${options.service} API`, specUrl: "/openapi.json" });
  return app;
}
