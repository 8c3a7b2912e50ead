/**
 * JSON over `fetch` for the project's typed clients: one request builder
 * with a timeout through `AbortSignal`, bearer authentication, responses
 * validated with zod, and every failure turned into an {@link AppError}.
 *
 * @module
 */
import type { z } from "zod";
import { AppError, codeForHttpStatus, errorMessage, isErrorCode } from "../errors.ts";
import { describeIssues } from "../http/mod.ts";

/** A `fetch`-like function; tests pass `(request) => app.request(request)`. */
export type FetchLike = (request: Request) => Promise<Response>;

/** Options of a client built on {@link JsonClient}. */
export interface JsonClientOptions {
  /** Base URL of the service, such as `http://127.0.0.1:8080`. */
  baseUrl: string;
  /** Sent as `Authorization: Bearer <token>` when set. */
  token?: string | undefined;
  /** How long one request may take, in ms (default 10 000). */
  timeoutMs?: number;
  /** The `fetch` to use (default: the global one). */
  fetch?: FetchLike;
  /** The service's name in error messages (default "service"). */
  serviceName?: string;
}

/** Per-call options of every client method. */
export interface CallOptions {
  /** Cancels the call. */
  signal?: AbortSignal;
  /** This call's timeout in ms, instead of the client's. */
  timeoutMs?: number;
}

/** One request: what to send and how to read the answer. */
export interface JsonRequest<T extends z.ZodType> {
  /** HTTP method. */
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** Path below the base URL, starting with `/`. */
  path: string;
  /** Sent as JSON; a string is sent as it is (already JSON). */
  body?: unknown;
  /** Validates the 2xx answer. */
  schema: T;
  /** What the call does, starting error messages: `Cannot bulk-advertise to the peer`. */
  action: string;
}

/** Default request timeout in ms. */
export const DEFAULT_TIMEOUT_MS = 10_000;

/** Sends JSON requests to one service and validates the answers. */
export class JsonClient {
  /** Base URL without a trailing slash. */
  readonly baseUrl: string;
  readonly #token: string | undefined;
  readonly #timeoutMs: number;
  readonly #fetch: FetchLike;
  readonly #serviceName: string;

  /** Creates a client for the service at `options.baseUrl`. */
  constructor(options: JsonClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.#token = options.token;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#fetch = options.fetch ?? ((request) => fetch(request));
    this.#serviceName = options.serviceName ?? "service";
  }

  /**
   * Sends one request and returns its validated answer. Throws an
   * {@link AppError}: `unavailable` when the service cannot be reached,
   * `deadline_exceeded` on timeout, the service's own code on an error
   * answer, `internal` when the answer does not match the schema. A call
   * cancelled through `options.signal` rejects with the signal's reason.
   */
  async send<T extends z.ZodType>(
    request: JsonRequest<T>,
    options: CallOptions = {},
  ): Promise<z.output<T>> {
    const timeoutMs = options.timeoutMs ?? this.#timeoutMs;
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    const headers = new Headers({ accept: "application/json" });
    if (this.#token !== undefined) headers.set("authorization", `Bearer ${this.#token}`);
    let body: string | undefined;
    if (request.body !== undefined) {
      headers.set("content-type", "application/json");
      body = typeof request.body === "string" ? request.body : JSON.stringify(request.body);
    }
    const url = this.baseUrl + request.path;
    const where = `the ${this.#serviceName} at ${this.baseUrl}`;
    let response: Response;
    let text: string;
    try {
      response = await this.#fetch(
        new Request(url, { method: request.method, headers, body: body ?? null, signal }),
      );
      text = await response.text();
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason;
      if (timeout.aborted) {
        throw new AppError(
          "deadline_exceeded",
          `${request.action}: ${where} did not answer within ${timeoutMs / 1000} s`,
          { cause: error },
        );
      }
      throw new AppError(
        "unavailable",
        `${request.action}: cannot reach ${where}: ${errorMessage(error)}`,
        { cause: error },
      );
    }
    const parsed = parseJson(text);
    if (!response.ok) throw errorFromAnswer(request.action, where, response.status, parsed);
    const result = request.schema.safeParse(parsed.ok ? parsed.value : text);
    if (!result.success) {
      throw new AppError(
        "internal",
        `${request.action}: ${where} answered ${response.status} with an unexpected body: ${
          describeIssues(result.error)
        }`,
      );
    }
    return result.data;
  }
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

/** The {@link AppError} for an error answer, keeping the service's own code and message. */
function errorFromAnswer(
  action: string,
  where: string,
  status: number,
  parsed: { ok: true; value: unknown } | { ok: false },
): AppError {
  const error = parsed.ok && typeof parsed.value === "object" && parsed.value !== null
    ? (parsed.value as { error?: { code?: unknown; message?: unknown; details?: unknown } }).error
    : undefined;
  const code = isErrorCode(error?.code) ? error.code : codeForHttpStatus(status);
  const message = typeof error?.message === "string" ? error.message : "no error message";
  const details = typeof error?.details === "object" && error.details !== null
    ? error.details as Record<string, unknown>
    : {};
  return new AppError(code, `${action}: ${where} answered ${status}: ${message}`, {
    details: { ...details, status },
  });
}
