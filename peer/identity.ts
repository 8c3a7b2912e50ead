/**
 * The peer's identity: `PEER_ID` when configured, otherwise an id generated
 * once and kept in `DATA_DIR/peer-id`, so a restarted peer is the same peer
 * to the others.
 *
 * @module
 */
import { AppError } from "../shared/errors.ts";

/** A peer id: 1 to 64 of `A-Z a-z 0-9 _ -` (contracts.md, ConnectRequest.peer_id). */
export const PEER_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** File name of the generated id inside the data directory. */
export const PEER_ID_FILE = "peer-id";

/** Options of {@link resolvePeerId}. */
export interface ResolvePeerIdOptions {
  /** `PEER_ID`, when set: used as it is. */
  configured?: string | undefined;
  /** Where a generated id is kept. */
  dataDir: string;
  /** Makes a new id (default: `peer-` and 12 random hex characters). */
  newId?: () => string;
}

/** A new peer id: `peer-` and 12 random hex characters. */
export function newPeerId(): string {
  return `peer-${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
}

/**
 * The peer's id: the configured one, else the one kept in
 * `dataDir/peer-id`, else a new one, written there (atomically) for next time.
 * Throws `failed_precondition` when the kept file holds no valid id, rather
 * than silently becoming another peer.
 */
export async function resolvePeerId(options: ResolvePeerIdOptions): Promise<string> {
  if (options.configured !== undefined) return options.configured;
  const path = `${options.dataDir}/${PEER_ID_FILE}`;
  let kept: string | undefined;
  try {
    kept = (await Deno.readTextFile(path)).trim();
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) {
      throw new AppError("failed_precondition", `Cannot read the peer id from ${path}: ${error}`, {
        cause: error,
      });
    }
  }
  if (kept !== undefined) {
    if (!PEER_ID_PATTERN.test(kept)) {
      throw new AppError(
        "failed_precondition",
        `Cannot use the peer id in ${path}: ${
          JSON.stringify(kept.slice(0, 80))
        } is not 1 to 64 of A-Z a-z 0-9 _ - (fix or delete the file, or set PEER_ID)`,
      );
    }
    return kept;
  }
  const id = (options.newId ?? newPeerId)();
  await Deno.mkdir(options.dataDir, { recursive: true });
  const temporary = `${path}.${crypto.randomUUID()}.tmp`;
  await Deno.writeTextFile(temporary, `${id}\n`);
  await Deno.rename(temporary, path);
  return id;
}
