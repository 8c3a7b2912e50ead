/**
 * Starting a service from its `main.ts`, the same way for the peer, the
 * register service and the hub:
 *
 * 1. the configuration is read (and the files it names): a bad one stops the
 *    service with its one line, `Invalid configuration: NAME="value": …`, on
 *    standard error, exit code 1;
 * 2. logging is set up as `LOG_LEVEL` and `LOG_FORMAT` say (coloured on a
 *    terminal unless `NO_COLOR` is set);
 * 3. the service runs. A start-up step that fails (a store that cannot open,
 *    a server that cannot listen) is logged in one line, `Cannot start: …`,
 *    naming the variable at fault when it is a listen failure (see
 *    `listen_failure.ts`), and exits 1.
 *
 * `main.ts` stays the only place that reads the environment: it hands it in.
 *
 * @module
 */
import type { Logger } from "@logtape/logtape";
import { ConfigError, type ServiceConfig } from "./config.ts";
import { errorMessage } from "./errors.ts";
import { listenFailureLine } from "./listen_failure.ts";
import { log, setupLogging } from "./logging.ts";

/** The variable naming the bind address, in a listen failure's line. */
const HOST_VARIABLE = "HOST";
/** The variable naming the HTTP port, in a listen failure's line. */
const PORT_VARIABLE = "PORT";

/** What every service's configuration says about logging. */
export type LoggingConfig = Pick<ServiceConfig, "logLevel" | "logFormat">;

/** Options of {@link ServiceStart.step}. */
export interface StartStepOptions {
  /** The variable a listen failure of this step names as the port (default `PORT`). */
  port?: string;
}

/** What a service's {@link RunServiceOptions.run} is given besides its configuration. */
export interface ServiceStart {
  /** The service's logger (`log(name)`). */
  logger: Logger;
  /**
   * Runs a start-up step and returns what it gives; when it fails, logs
   * `Cannot start: <why>` and exits 1. Why is a listen failure's line (naming
   * `HOST` and the step's port variable) or the error's message.
   */
  step<T>(work: () => Promise<T>, options?: StartStepOptions): Promise<T>;
}

/** Options of {@link runService}. */
export interface RunServiceOptions<C extends LoggingConfig> {
  /** The environment, as `main.ts` read it (`Deno.env.toObject()`). */
  env: Record<string, string>;
  /**
   * Reads the configuration from `env` and the files it names; a
   * {@link ConfigError} it throws stops the service with its message.
   */
  configure(env: Record<string, string>): C | Promise<C>;
  /**
   * Runs the service (logging set up) until it stops. A listen failure it
   * throws (the HTTP server's) stops the service with one line naming `HOST`
   * or `PORT`; any other error is thrown on.
   */
  run(config: C, start: ServiceStart): Promise<void>;
}

/** Logs `Cannot start: <line>` and exits 1. */
function cannotStart(logger: Logger, line: string): never {
  logger.error("Cannot start: {error}", { error: line });
  Deno.exit(1);
}

/**
 * Configures, sets up logging for and runs the service `name` (its logger's
 * category: `peer`, `register`, `hub`), as the module documentation says.
 */
export async function runService<C extends LoggingConfig>(
  name: string,
  options: RunServiceOptions<C>,
): Promise<void> {
  let config: C;
  try {
    config = await options.configure(options.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    Deno.exit(1);
  }
  setupLogging({
    level: config.logLevel,
    format: config.logFormat,
    color: Deno.stderr.isTerminal() && !options.env.NO_COLOR,
  });
  const logger = log(name);
  const start: ServiceStart = {
    logger,
    async step(work, stepOptions = {}) {
      try {
        return await work();
      } catch (error) {
        const variables = { host: HOST_VARIABLE, port: stepOptions.port ?? PORT_VARIABLE };
        return cannotStart(logger, listenFailureLine(error, variables) ?? errorMessage(error));
      }
    },
  };
  try {
    await options.run(config, start);
  } catch (error) {
    const line = listenFailureLine(error, { host: HOST_VARIABLE, port: PORT_VARIABLE });
    if (line === undefined) throw error;
    cannotStart(logger, line);
  }
}
