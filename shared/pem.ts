/**
 * PEM files named by configuration variables (TLS certificates, keys, CA
 * roots), read once at start: a file that cannot be read, or is not PEM,
 * stops the service with one line naming the variable and the path.
 *
 * @module
 */
import { ConfigError } from "./config.ts";
import { errorMessage } from "./errors.ts";

/** Reads the PEM file at `path`, named by `variable`; a ConfigError when it cannot be read or is not PEM. */
export async function readPemFile(path: string, variable: string): Promise<Uint8Array> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (error) {
    throw new ConfigError(
      `Invalid configuration: ${variable}=${JSON.stringify(path)}: cannot read the PEM file (${
        errorMessage(error)
      })`,
    );
  }
  if (!new TextDecoder().decode(bytes).includes("-----BEGIN ")) {
    throw new ConfigError(
      `Invalid configuration: ${variable}=${
        JSON.stringify(path)
      }: expected a PEM file (no "-----BEGIN" line in it)`,
    );
  }
  return bytes;
}
