/**
 * Serving an app until the process is told to stop (SIGINT or SIGTERM), then
 * shutting down in order: end event streams, stop taking connections, finish
 * requests, release resources.
 *
 * @module
 */
import type { Logger } from "@logtape/logtape";
import { listenError } from "./listen_failure.ts";

/** Options of {@link serveUntilSignal}. */
export interface ServeOptions {
  /** Bind address. */
  host: string;
  /** Port (0: any free port). */
  port: number;
  /** The service's name, for the log line. */
  service: string;
  /** Where the start and stop lines go. */
  logger: Logger;
  /** Releases the service's resources after the server has stopped. */
  onShutdown: () => Promise<void>;
  /**
   * Called when a stop begins, before the server waits for the requests in
   * flight: ends responses that would never finish by themselves (event streams).
   */
  onStopping?: () => void;
  /** Stops the service as a signal would when it resolves, with the reason to log. */
  stop?: Promise<string>;
  /** Starts what should run only once the service serves (called once it listens). */
  onListen?: () => void;
}

/**
 * Serves `handler` and resolves once a stop signal has shut everything down.
 * When it cannot listen (the port is taken, the host is not this machine's),
 * it releases the service's resources (`onShutdown`) and rejects with the
 * error of `listen_failure.ts`, which `main.ts` reports in one line.
 */
export async function serveUntilSignal(
  handler: (request: Request) => Response | Promise<Response>,
  options: ServeOptions,
): Promise<void> {
  const { promise: stopped, resolve: stop } = Promise.withResolvers<string>();
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve({
      hostname: options.host,
      port: options.port,
      onListen: ({ hostname, port }) => {
        options.logger.info("{service} listening on http://{hostname}:{port}", {
          service: options.service,
          hostname,
          port,
        });
      },
    }, handler);
  } catch (error) {
    await options.onShutdown();
    throw listenError(error, { host: options.host, port: options.port }, "HTTP");
  }
  options.onListen?.();
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  const listeners = signals.map((signal) => {
    const listener = () => stop(signal);
    Deno.addSignalListener(signal, listener);
    return [signal, listener] as const;
  });
  const signal = await (options.stop ? Promise.race([stopped, options.stop]) : stopped);
  for (const [name, listener] of listeners) Deno.removeSignalListener(name, listener);
  options.logger.info("{service} stopping on {signal}", { service: options.service, signal });
  options.onStopping?.();
  await server.shutdown();
  await options.onShutdown();
  options.logger.info("{service} stopped", { service: options.service });
}
