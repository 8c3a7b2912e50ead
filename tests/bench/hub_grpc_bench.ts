/**
 * The hub's own figures over gRPC, through our typed clients (grpc-js):
 * FullSync of 10,000 blueprints of 1 KiB to one client, and the hubs that
 * serve it and the push fan-out (`hub_push_probe.ts`). `hub_bench.ts` times
 * them against etcd.
 *
 * The hub under measurement runs as a separate process (`hub/main.ts`), as
 * etcd does, so that the server and the benchmark's clients do not share one
 * JavaScript thread ({@link spawnBenchHub}); its register is filled before it
 * starts, straight into its SQLite store ({@link populateRegister}), and
 * publications go through `POST /api/system-register/blueprints`. An
 * in-process hub ({@link inProcessBenchHub}, `startHub` of `hub/hub.ts`,
 * publishing through `hub.publish`) is there to tell the server's own cost
 * apart from the HTTP hop and the second process.
 *
 * @module
 */
import { join } from "node:path";
import { startHub } from "../../hub/hub.ts";
import {
  ensureGenesis,
  openSqliteSystemRegisterStore,
  SYSTEM_REGISTER_FILE_NAME,
} from "../../hub/system_register/mod.ts";
import { systemClock } from "../../shared/clock.ts";
import { freePort } from "../fixtures/ports.ts";
import { startService } from "../fixtures/service_process.ts";
import { tempDir } from "../fixtures/wait.ts";
import { blueprintObject, httpPublisher, type PushTarget } from "./hub_push_probe.ts";

const HUB_ID = "bench";
const HUB_MAIN = new URL("../../hub/main.ts", import.meta.url).pathname;
/** Long enough that no idle keep-alive is sent during a benchmark (the first frame still is one). */
const KEEPALIVE_SECONDS = 3600;
/** Long enough that no periodic integrity check runs during a benchmark. */
const INTEGRITY_CHECK_SECONDS = 86_400;

const encoder = new TextEncoder();

/** {@link blueprintObject} as UTF-8 JSON bytes, as the register stores it. */
export function blueprintDocument(n: number, bytes: number): Uint8Array {
  return encoder.encode(JSON.stringify(blueprintObject(n, bytes)));
}

/**
 * A hub under measurement; publishes over HTTP (a separate process) or with
 * `hub.publish` (in-process).
 */
export interface BenchHub extends PushTarget, AsyncDisposable {
  /** How it runs, for the report: "separate process" or "in-process". */
  readonly where: string;
  /** Its publishing endpoint, when it runs as a separate process (publications then go there). */
  readonly publishUrl?: string;
}

/**
 * Fills the SQLite system register of `dataDir` with genesis and `count`
 * blueprints of `documentBytes`, before a hub opens it (not timed). Returns
 * the number of entries (genesis included).
 */
export async function populateRegister(
  dataDir: string,
  options: { count: number; documentBytes: number },
): Promise<number> {
  const store = openSqliteSystemRegisterStore(join(dataDir, SYSTEM_REGISTER_FILE_NAME));
  try {
    await ensureGenesis(store, { clock: systemClock, hubId: HUB_ID });
    for (let i = 0; i < options.count; i++) {
      await store.publish({
        blueprintId: `bench-blueprint-${i}`,
        document: blueprintDocument(i, options.documentBytes),
        publishedAt: Date.now(),
        publishedBy: "bench",
        metadata: {},
        publicationTransactionId: `bench-publication-${i}`,
      });
    }
    return (await store.head()).entryCount;
  } finally {
    await store.close();
  }
}

/**
 * A temporary data directory holding a register of `count` blueprints
 * (see {@link populateRegister}), removed on dispose.
 */
export async function populatedDataDir(
  options: { count: number; documentBytes: number },
): Promise<{ path: string; entries: number } & AsyncDisposable> {
  const dir = await tempDir("hub-bench-");
  try {
    const entries = await populateRegister(dir.path, options);
    return { path: dir.path, entries, [Symbol.asyncDispose]: () => dir[Symbol.asyncDispose]() };
  } catch (error) {
    await dir[Symbol.asyncDispose]();
    throw error;
  }
}

/**
 * `deno run -A hub/main.ts` on free loopback ports over `dataDir`, without
 * rate limits; resolves once `/readyz` answers (the register was validated).
 * Publishes through `POST /api/system-register/blueprints`. `options.env`
 * adds variables (telemetry, say).
 */
export async function spawnBenchHub(
  dataDir: string,
  options: { env?: Record<string, string> } = {},
): Promise<BenchHub> {
  const grpcPort = freePort();
  const service = await startService(HUB_MAIN, {
    env: {
      DATA_DIR: dataDir,
      HUB_ID,
      GRPC_PORT: String(grpcPort),
      GRPC_RATE_LIMIT_PER_SECOND: "0",
      KEEPALIVE_SECONDS: String(KEEPALIVE_SECONDS),
      INTEGRITY_CHECK_INTERVAL_SECONDS: String(INTEGRITY_CHECK_SECONDS),
      LOG_LEVEL: "warning",
      ...options.env,
    },
    timeoutMs: 60_000,
  });
  const publishUrl = `${service.url}/api/system-register/blueprints`;
  return {
    where: "separate process",
    grpcPort,
    publishUrl,
    publish: httpPublisher(publishUrl),
    async [Symbol.asyncDispose]() {
      const code = await service.stop("SIGTERM");
      if (code !== 0) console.log(`  (the hub exited with ${code}: ${service.stderr().trim()})`);
    },
  };
}

/** `startHub` in this process over `dataDir`, without rate limits; publishes through `hub.publish`. */
export async function inProcessBenchHub(dataDir: string): Promise<BenchHub> {
  const hub = await startHub({
    hubId: HUB_ID,
    dataDir,
    grpcPort: 0,
    rateLimitPerSecond: 0,
    keepAliveSeconds: KEEPALIVE_SECONDS,
    integrityCheckSeconds: INTEGRITY_CHECK_SECONDS,
  });
  return {
    where: "in-process",
    grpcPort: hub.grpcPort,
    async publish(input) {
      await hub.publish({ ...input, document: encoder.encode(JSON.stringify(input.document)) });
    },
    [Symbol.asyncDispose]: () => hub.close(),
  };
}
