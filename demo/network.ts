/**
 * A whole local network on loopback, each service a process of its own with
 * an embedded store: three hubs (n0, n1, n2) on one system register (one
 * data directory), three peers gossiping (alpha, bravo, charlie) and linked
 * to the hubs (`HUB_NODES` lists n0, n1, n2 in that order), and the register
 * service pushing to alpha. Each service is started as its `deno task` would
 * start it (`peer/main.ts`, ...), each peer with its own data directory, and
 * counts as up once its `/readyz` answers 200.
 *
 * Hubs run `hub/main.ts` itself, as `deno task dev:hub` does (without
 * `--watch`), not under the supervisor of `deno task hub`: that supervisor
 * starts again a hub killed by a signal, and the network must be able to
 * kill a hub for good ({@link DemoNetwork.killHub}) and start it again when
 * asked ({@link DemoNetwork.startHub}).
 *
 * @module
 */

import {
  PEER_PERMISSIONS,
  SERVICE_PERMISSIONS,
  type ServiceProcess,
  startServiceProcess,
} from "./service_process.ts";

/** One service of the demo network. */
export interface DemoService {
  /** Its name: alpha, bravo, charlie, register, n0, n1 or n2. */
  readonly name: string;
  /** `http://127.0.0.1:PORT`. */
  readonly url: string;
  /** A hub's gRPC address, `127.0.0.1:PORT`. */
  readonly grpc?: string;
}

/** The hubs' ids, in the peers' priority order. */
export const HUB_IDS = ["n0", "n1", "n2"] as const;

/** A hub's id. */
export type HubId = typeof HUB_IDS[number];

/** A hub of the demo network. */
export interface DemoHub extends DemoService {
  /** Its `HUB_ID`. */
  readonly name: HubId;
  /** Its gRPC address, `127.0.0.1:PORT` (as listed in the peers' `HUB_NODES`). */
  readonly grpc: string;
}

/** A running demo network; dispose to stop every service. */
export interface DemoNetwork extends AsyncDisposable {
  /** Peer alpha, which the register service pushes to. */
  readonly alpha: DemoService;
  /** Peer bravo (seeded with alpha). */
  readonly bravo: DemoService;
  /** Peer charlie (seeded with alpha). */
  readonly charlie: DemoService;
  /** The register service. */
  readonly register: DemoService;
  /** Hub n0, the peers' first choice. */
  readonly hub: DemoHub;
  /** n0, n1, n2. */
  readonly hubs: readonly DemoHub[];
  /** alpha, bravo, charlie. */
  readonly peers: readonly DemoService[];
  /** Every service, in start order. */
  readonly services: readonly DemoService[];
  /** What a service wrote to standard output and error (its log), for a report. */
  log(name: string): string;
  /** The process id of a running service, undefined when it is not running. */
  pid(name: string): number | undefined;
  /** Kills a hub's process (SIGKILL) and resolves once it is gone; nothing when it is not running. */
  killHub(name: HubId): Promise<void>;
  /** Stops a hub (SIGTERM) and resolves once it exited; nothing when it is not running. */
  stopHub(name: HubId): Promise<void>;
  /** Starts a stopped hub again, on its ports and the same store, and resolves once it is ready. */
  startHub(name: HubId): Promise<void>;
}

/** A hub's ports. */
export interface DemoHubPorts {
  /** Its HTTP port (`PORT`). */
  http: number;
  /** Its gRPC port (`GRPC_PORT`). */
  grpc: number;
}

/** Ports of the demo network. */
export interface DemoPorts {
  /** Peer alpha's HTTP port. */
  alpha: number;
  /** Peer bravo's HTTP port. */
  bravo: number;
  /** Peer charlie's HTTP port. */
  charlie: number;
  /** The register service's HTTP port. */
  register: number;
  /** n0, n1, n2. */
  hubs: readonly [DemoHubPorts, DemoHubPorts, DemoHubPorts];
}

/** The ports of `deno task demo`, those the README's examples use. */
export const DEFAULT_DEMO_PORTS: DemoPorts = {
  alpha: 8080,
  bravo: 8180,
  charlie: 8280,
  register: 8081,
  hubs: [
    { http: 8090, grpc: 50051 },
    { http: 8091, grpc: 50052 },
    { http: 8092, grpc: 50053 },
  ],
};

/** Every port of `ports`, for a message. */
export function listPorts(ports: DemoPorts): number[] {
  return [
    ports.alpha,
    ports.bravo,
    ports.charlie,
    ports.register,
    ...ports.hubs.flatMap((hub) => [hub.http, hub.grpc]),
  ];
}

/** How fast the hub link runs: the peers' and the hubs' timing variables. */
export interface DemoTimings {
  /** Peers' `HEARTBEAT_INTERVAL_SECONDS`. */
  peerHeartbeatIntervalSeconds: number;
  /** Peers' `HEARTBEAT_TIMEOUT_SECONDS`. */
  peerHeartbeatTimeoutSeconds: number;
  /** Peers' `HEARTBEAT_MAX_MISSED`. */
  peerHeartbeatMaxMissed: number;
  /** Peers' `HUB_RETRY_MAX_SECONDS`. */
  hubRetryMaxSeconds: number;
  /** Peers' `HUB_CONNECT_TIMEOUT_SECONDS`. */
  hubConnectTimeoutSeconds: number;
  /** Peers' `SYNC_INTERVAL_SECONDS`. */
  syncIntervalSeconds: number;
  /** Hubs' `HEARTBEAT_INTERVAL_SECONDS`. */
  hubHeartbeatIntervalSeconds: number;
  /** Hubs' `STORE_POLL_SECONDS` (how soon a hub hears of another's publication). */
  storePollSeconds: number;
}

/** Timings an operator can watch: a beat every 2 s, a failover in about 4 to 6 s. */
export const INTERACTIVE_TIMINGS: DemoTimings = {
  peerHeartbeatIntervalSeconds: 2,
  peerHeartbeatTimeoutSeconds: 2,
  peerHeartbeatMaxMissed: 2,
  hubRetryMaxSeconds: 10,
  hubConnectTimeoutSeconds: 2,
  syncIntervalSeconds: 60,
  hubHeartbeatIntervalSeconds: 2,
  storePollSeconds: 0.5,
};

/** Timings of the smoke run: a failover within 3 s, a publication in every replica within 1 s. */
export const SMOKE_TIMINGS: DemoTimings = {
  peerHeartbeatIntervalSeconds: 0.25,
  peerHeartbeatTimeoutSeconds: 0.5,
  peerHeartbeatMaxMissed: 2,
  hubRetryMaxSeconds: 1,
  hubConnectTimeoutSeconds: 1,
  syncIntervalSeconds: 30,
  hubHeartbeatIntervalSeconds: 1,
  storePollSeconds: 0.1,
};

/** Options of {@link startDemoNetwork}. */
export interface DemoNetworkOptions {
  /** Where the services keep their data (a folder per peer and the register service, one for the hubs). */
  dataDir: string;
  /** Its ports. */
  ports: DemoPorts;
  /** Gossip round interval, in seconds (the demo's default: 2). */
  gossipIntervalSeconds?: number;
  /** The hub link's timings (default {@link INTERACTIVE_TIMINGS}). */
  timings?: DemoTimings;
  /** The services' `LOG_LEVEL` (default warning). */
  logLevel?: string;
  /** Called with each line a service logs, as it comes (the smoke run keeps them instead). */
  onLog?: (service: string, line: string) => void;
  /** How long a service may take to be ready, in ms (default 30,000). */
  readyTimeoutMs?: number;
}

const ROOT = new URL("../", import.meta.url).pathname;

interface Plan {
  service: DemoService;
  entry: string;
  permissions: readonly string[];
  dataDir: string;
  env: Record<string, string>;
}

/**
 * Starts the demo network (see the module) and resolves once every service
 * is ready; a service that fails to start stops the others and rejects,
 * saying which and why.
 */
export async function startDemoNetwork(options: DemoNetworkOptions): Promise<DemoNetwork> {
  const { ports, dataDir } = options;
  const timings = options.timings ?? INTERACTIVE_TIMINGS;
  const gossip = String(options.gossipIntervalSeconds ?? 2);
  const url = (port: number) => `http://127.0.0.1:${port}`;
  const hubs: DemoHub[] = HUB_IDS.map((name, index) => ({
    name,
    url: url(ports.hubs[index]!.http),
    grpc: `127.0.0.1:${ports.hubs[index]!.grpc}`,
  }));
  const hubPlan = (hub: DemoHub): Plan => ({
    service: hub,
    entry: "hub/main.ts",
    permissions: SERVICE_PERMISSIONS,
    dataDir: `${dataDir}/hubs`,
    env: {
      HUB_ID: hub.name,
      GRPC_PORT: hub.grpc.split(":")[1]!,
      HEARTBEAT_INTERVAL_SECONDS: String(timings.hubHeartbeatIntervalSeconds),
      STORE_POLL_SECONDS: String(timings.storePollSeconds),
    },
  });
  const hubLink = {
    HUB_NODES: hubs.map((hub) => hub.grpc).join(","),
    HEARTBEAT_INTERVAL_SECONDS: String(timings.peerHeartbeatIntervalSeconds),
    HEARTBEAT_TIMEOUT_SECONDS: String(timings.peerHeartbeatTimeoutSeconds),
    HEARTBEAT_MAX_MISSED: String(timings.peerHeartbeatMaxMissed),
    HUB_RETRY_MAX_SECONDS: String(timings.hubRetryMaxSeconds),
    HUB_CONNECT_TIMEOUT_SECONDS: String(timings.hubConnectTimeoutSeconds),
    SYNC_INTERVAL_SECONDS: String(timings.syncIntervalSeconds),
  };
  const peerPlan = (name: string, port: number, seed: number): Plan => ({
    service: { name, url: url(port) },
    entry: "peer/main.ts",
    permissions: PEER_PERMISSIONS,
    dataDir: `${dataDir}/${name}`,
    env: {
      PEER_ID: name,
      GOSSIP_SEEDS: url(seed),
      GOSSIP_INTERVAL_SECONDS: gossip,
      ...hubLink,
    },
  });
  const plan: Plan[] = [
    ...hubs.map(hubPlan),
    peerPlan("alpha", ports.alpha, ports.bravo),
    peerPlan("bravo", ports.bravo, ports.alpha),
    peerPlan("charlie", ports.charlie, ports.alpha),
    {
      service: { name: "register", url: url(ports.register) },
      entry: "register/main.ts",
      permissions: SERVICE_PERMISSIONS,
      dataDir: `${dataDir}/register`,
      env: { PEER_URL: url(ports.alpha) },
    },
  ];
  const byName = new Map(plan.map((step) => [step.service.name, step]));
  const logs = new Map<string, string[]>(plan.map((step) => [step.service.name, []]));
  const running = new Map<string, ServiceProcess>();
  const order: string[] = []; // start order, for stopping in reverse

  const start = async (name: string) => {
    const step = byName.get(name)!;
    const child = await startServiceProcess({
      name,
      entry: step.entry,
      permissions: step.permissions,
      cwd: ROOT,
      port: Number(new URL(step.service.url).port),
      dataDir: step.dataDir,
      logLevel: options.logLevel ?? "warning",
      env: step.env,
      logged: logs.get(name)!,
      readyTimeoutMs: options.readyTimeoutMs ?? 30_000,
      ...(options.onLog ? { onLog: options.onLog } : {}),
    });
    running.set(name, child);
    if (!order.includes(name)) order.push(name);
  };
  const stop = async (name: string, signal: "SIGTERM" | "SIGKILL") => {
    const child = running.get(name);
    running.delete(name);
    await child?.stop(signal);
  };
  const stopAll = async () => {
    for (const name of [...order].reverse()) await stop(name, "SIGTERM");
  };
  try {
    for (const step of plan) await start(step.service.name);
  } catch (error) {
    await stopAll();
    throw error;
  }
  const service = (name: string) => byName.get(name)!.service;
  return {
    alpha: service("alpha"),
    bravo: service("bravo"),
    charlie: service("charlie"),
    register: service("register"),
    hub: hubs[0]!,
    hubs,
    peers: ["alpha", "bravo", "charlie"].map(service),
    services: plan.map((step) => step.service),
    log: (name) => logs.get(name)?.join("\n") ?? "",
    pid: (name) => running.get(name)?.pid,
    killHub: (name) => stop(name, "SIGKILL"),
    stopHub: (name) => stop(name, "SIGTERM"),
    startHub: async (name) => {
      if (running.get(name)?.running()) throw new Error(`${name} is running`);
      await start(name);
    },
    [Symbol.asyncDispose]: stopAll,
  };
}
