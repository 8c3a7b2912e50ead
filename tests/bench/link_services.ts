/**
 * The hubs and peers of the hub-link benchmarks, each a process of its own on
 * free loopback ports: `hub/main.ts` over a given data directory (hubs of one
 * network share it), and `peer/main.ts` with `HUB_NODES` (which runs its link
 * as a child process of its own, as in production), over a temporary data
 * directory or Redis.
 *
 * @module
 */
import { freePort } from "../fixtures/ports.ts";
import { type BenchService, spawnService } from "./bench_service.ts";

const HUB_MAIN = new URL("../../hub/main.ts", import.meta.url).pathname;
const PEER_MAIN = new URL("../../peer/main.ts", import.meta.url).pathname;
/** Long enough that no periodic integrity check runs during a benchmark. */
const INTEGRITY_CHECK_SECONDS = 86_400;

/** Options of {@link spawnLinkHub}. */
export interface LinkHubOptions {
  /** `HUB_ID`. */
  hubId: string;
  /** `DATA_DIR` (hubs of one network share one). */
  dataDir: string;
  /** More variables (`GRPC_RATE_LIMIT_PER_SECOND`, `HEARTBEAT_INTERVAL_SECONDS` ...). */
  env?: Record<string, string>;
}

/** A hub process. */
export interface LinkHub extends AsyncDisposable {
  /** Its process. */
  readonly service: BenchService;
  /** `127.0.0.1:GRPC_PORT`, as listed in a peer's `HUB_NODES`. */
  readonly address: string;
  /** Its gRPC port. */
  readonly grpcPort: number;
  /** `POST` URL of its publishing endpoint. */
  readonly publishUrl: string;
}

/** Starts `hub/main.ts`; resolves once `/readyz` answers (its register was validated). */
export async function spawnLinkHub(options: LinkHubOptions): Promise<LinkHub> {
  const grpcPort = freePort();
  const service = await spawnService(HUB_MAIN, {
    env: {
      HUB_ID: options.hubId,
      DATA_DIR: options.dataDir,
      GRPC_PORT: `${grpcPort}`,
      INTEGRITY_CHECK_INTERVAL_SECONDS: `${INTEGRITY_CHECK_SECONDS}`,
      ...options.env,
    },
  });
  return {
    service,
    address: `127.0.0.1:${grpcPort}`,
    grpcPort,
    publishUrl: `${service.url}/api/system-register/blueprints`,
    async [Symbol.asyncDispose]() {
      await service.stop();
    },
  };
}

/** Options of {@link spawnLinkPeer}. */
export interface LinkPeerOptions {
  /** `HUB_NODES`, in priority order. */
  hubs: readonly string[];
  /** More variables (heartbeat timings, `REDIS_URL` ...). */
  env?: Record<string, string>;
}

/** A peer process with a hub link. */
export interface LinkPeer extends AsyncDisposable {
  /** Its process. */
  readonly service: BenchService;
  /** `http://127.0.0.1:PORT`. */
  readonly url: string;
  /** `performance.now()` just before its process was spawned. */
  readonly spawnedAt: number;
}

/**
 * Starts `peer/main.ts` with `HUB_NODES` over a new temporary `DATA_DIR`
 * (removed on dispose); resolves once `/readyz` answers (which does not wait
 * for the hub link).
 */
export async function spawnLinkPeer(options: LinkPeerOptions): Promise<LinkPeer> {
  const dataDir = await Deno.makeTempDir({ prefix: "hub-link-bench-peer-" });
  const spawnedAt = performance.now();
  let service: BenchService;
  try {
    service = await spawnService(PEER_MAIN, {
      env: { DATA_DIR: dataDir, HUB_NODES: options.hubs.join(","), ...options.env },
    });
  } catch (error) {
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    throw error;
  }
  return {
    service,
    url: service.url,
    spawnedAt,
    async [Symbol.asyncDispose]() {
      await service.stop();
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    },
  };
}
