/**
 * Why a server could not listen, said in one line. `Deno.serve` (HTTP) and
 * grpc-js's `bindAsync` (gRPC) fail in their own words ("Address already in
 * use (os error 98)", "No address added out of total 1 resolved errors:
 * [listen EADDRINUSE …]", "Name resolution failed for target dns:…"); both
 * become an {@link AppError} (`unavailable`) carrying the address and the
 * {@link ListenProblem}, which a service's `main.ts` turns into a line naming
 * the variable at fault and its value ({@link listenFailureLine}):
 *
 * `PORT="8080": 127.0.0.1:8080 is in use by another process (expected a free port, or 0 for any free port)`
 *
 * @module
 */
import { AppError, errorMessage } from "./errors.ts";

/**
 * What went wrong: the port is taken (`in_use`) or needs privileges
 * (`permission`); the host does not resolve (`unknown_host`) or is not an
 * address of this machine (`not_local`); or something else (`other`).
 */
export type ListenProblem = "in_use" | "permission" | "unknown_host" | "not_local" | "other";

/** Where a server tried to listen. */
export interface ListenAddress {
  /** The bind address as configured. */
  host: string;
  /** The port as configured (0: any free port). */
  port: number;
}

/** The facts a listen failure carries in its {@link AppError.details}. */
interface ListenDetails extends ListenAddress {
  listenProblem: ListenProblem;
}

/** Recognises the problem in an error of `Deno.serve`, `Deno.listen` or grpc-js's `bindAsync`. */
export function listenProblem(error: unknown): ListenProblem {
  if (error instanceof Deno.errors.AddrInUse) return "in_use";
  if (error instanceof Deno.errors.AddrNotAvailable) return "not_local";
  if (error instanceof Deno.errors.PermissionDenied) return "permission";
  const message = errorMessage(error);
  if (/EADDRINUSE/.test(message)) return "in_use";
  if (/EACCES/.test(message)) return "permission";
  if (/EADDRNOTAVAIL|EINVAL/.test(message)) return "not_local";
  if (
    error instanceof URIError ||
    /failed to lookup address|Name resolution failed|No addresses resolved|ENOTFOUND|EAI_/.test(
      message,
    )
  ) {
    return "unknown_host";
  }
  return "other";
}

/** `host:port`, with brackets around an IPv6 host. */
function hostPort({ host, port }: ListenAddress): string {
  return `${host.includes(":") ? `[${host}]` : host}:${port}`;
}

/** What the problem means for `address`, and what is expected instead. */
function explanation(problem: ListenProblem, address: ListenAddress, cause: string): string {
  const where = hostPort(address);
  switch (problem) {
    case "in_use":
      return `${where} is in use by another process (expected a free port, or 0 for any free port)`;
    case "permission":
      return `listening on ${where} is not permitted (ports below 1024 need privileges; expected a port from 1024 to 65535, or 0 for any free port)`;
    case "unknown_host":
      return `not an address this machine can listen on: it does not resolve (expected an IP address of this machine or a host name, such as 127.0.0.1, 0.0.0.0 or localhost)`;
    case "not_local":
      return `not an address of this machine (expected one of its IP addresses, such as 127.0.0.1 or 0.0.0.0)`;
    case "other":
      return `cannot listen on ${where}: ${cause.replace(/\s+/g, " ")}`;
  }
}

/**
 * The error a server's listen fails with: `unavailable`, saying which
 * server (`what`: "HTTP", "gRPC"), where and why, with the address and the
 * {@link ListenProblem} in its details for {@link listenFailureLine}.
 */
export function listenError(cause: unknown, address: ListenAddress, what: string): AppError {
  const problem = listenProblem(cause);
  const reason = errorMessage(cause);
  const details: ListenDetails = { ...address, listenProblem: problem };
  return new AppError(
    "unavailable",
    `Cannot serve ${what} on ${hostPort(address)}: ${explanation(problem, address, reason)}`,
    { cause, details: { ...details } },
  );
}

/** The details of an error made by {@link listenError}, if it is one. */
function listenDetails(error: unknown): ListenDetails | undefined {
  if (!(error instanceof AppError) || !error.details) return undefined;
  const { host, port, listenProblem } = error.details;
  if (typeof host !== "string" || typeof port !== "number" || typeof listenProblem !== "string") {
    return undefined;
  }
  return { host, port, listenProblem: listenProblem as ListenProblem };
}

/**
 * One line naming the variable at fault and its value, for an error made
 * by {@link listenError}: the port's variable for a port in use or not
 * permitted, the host's for a host that does not resolve or is not local,
 * both otherwise. Undefined for any other error.
 */
export function listenFailureLine(
  error: unknown,
  variables: { host: string; port: string },
): string | undefined {
  const details = listenDetails(error);
  if (!details) return undefined;
  const problem = details.listenProblem;
  const host = `${variables.host}=${JSON.stringify(details.host)}`;
  const port = `${variables.port}=${JSON.stringify(String(details.port))}`;
  const cause = (error as AppError).cause;
  const reason = errorMessage(cause);
  const named = problem === "in_use" || problem === "permission"
    ? port
    : problem === "other"
    ? `${host}, ${port}`
    : host;
  return `${named}: ${explanation(problem, details, reason)}`;
}
