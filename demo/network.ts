/**
 * A whole local network on loopback, each service a process of its own with
 * an embedded store: three peers gossiping (alpha, bravo, charlie), the
 * register service pushing to alpha, and a hub. Each service is started as
 * its `deno task` would start it (`peer/main.ts`, ...), with its own data
 * directory, and counts as up once its `/readyz` answers 200.
 *
 * @module
 */

import { lines } from "../shared/lines.ts";

/** One service of the demo network. */
export interface DemoService {
  /** Its name: alpha, bravo, charlie, register or hub. */
  readonly name: string;
  /** `http://127.0.0.1:PORT`. */
  readonly url: string;
  /** The hub's gRPC address, `127.0.0.1:PORT`. */
  readonly grpc?: string;
}

/** A running demo network; dispose to stop every service. */
export interface DemoNetwork extends AsyncDisposable {
  readonly alpha: DemoService;
  readonly bravo: DemoService;
  readonly charlie: DemoService;
  readonly register: DemoService;
  readonly hub: DemoService & { readonly grpc: string };
  /** Every service, in start order. */
  readonly services: readonly DemoService[];
  /** What a service wrote to standard error (its log), for a report. */
  log(name: string): string;
}

/** Ports of the demo network. */
export interface DemoPorts {
  alpha: number;
  bravo: number;
  charlie: number;
  register: number;
  hub: number;
  hubGrpc: number;
}

/** The ports of `deno task demo`, those the README's examples use. */
export const DEFAULT_DEMO_PORTS: DemoPorts = {
  alpha: 8080,
  bravo: 8180,
  charlie: 8280,
  register: 8081,
  hub: 8090,
  hubGrpc: 50051,
};

/** Options of {@link startDemoNetwork}. */
export interface DemoNetworkOptions {
  /** Where each service keeps its data (a folder per service). */
  dataDir: string;
  /** Its ports. */
  ports: DemoPorts;
  /** Gossip round interval, in seconds (the demo's default: 2). */
  gossipIntervalSeconds?: number;
  /** The services' `LOG_LEVEL` (default warning). */
  logLevel?: string;
  /** Called with each line a service logs, as it comes (the smoke run keeps them instead). */
  onLog?: (service: string, line: string) => void;
  /** How long a service may take to be ready, in ms (default 30,000). */
  readyTimeoutMs?: number;
}

const ROOT = new URL("../", import.meta.url).pathname;
const SERVICE_PERMISSIONS = [
  "--allow-net",
  "--allow-env",
  "--allow-read",
  "--allow-write",
  "--allow-sys",
];

interface Started {
  service: DemoService;
  stop(): Promise<void>;
  log(): string;
}

async function startService(
  name: string,
  entry: string,
  options: {
    port: number;
    env: Record<string, string>;
    dataDir: string;
    logLevel: string;
    onLog?: (service: string, line: string) => void;
    readyTimeoutMs: number;
    grpc?: string;
  },
): Promise<Started> {
  const url = `http://127.0.0.1:${options.port}`;
  const dataDir = `${options.dataDir}/${name}`;
  await Deno.mkdir(dataDir, { recursive: true });
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...SERVICE_PERMISSIONS, entry],
    cwd: ROOT,
    env: {
      HOST: "127.0.0.1",
      PORT: String(options.port),
      DATA_DIR: dataDir,
      LOG_LEVEL: options.logLevel,
      NO_COLOR: "1",
      ...options.env,
    },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const logged: string[] = [];
  const keep = async (stream: ReadableStream<Uint8Array>) => {
    for await (const line of lines(stream)) {
      logged.push(line);
      options.onLog?.(name, line);
    }
  };
  const drained = Promise.all([keep(child.stdout), keep(child.stderr)]);
  let exited: Deno.CommandStatus | undefined;
  const status = child.status.then((s) => exited = s);
  const stop = async () => {
    if (exited === undefined) {
      try {
        child.kill("SIGTERM");
      } catch { /* already gone */ }
    }
    await status;
    await drained;
  };
  const deadline = Date.now() + options.readyTimeoutMs;
  for (;;) {
    if (exited !== undefined) {
      await stop();
      throw new Error(
        `${name} exited with ${exited.code} while starting: ${logged.slice(-5).join(" | ")}`,
      );
    }
    try {
      const response = await fetch(`${url}/readyz`);
      await response.body?.cancel();
      if (response.ok) break;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(
        `${name} was not ready at ${url}/readyz within ${options.readyTimeoutMs} ms: ${
          logged.slice(-5).join(" | ")
        }`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const service = { name, url, ...(options.grpc ? { grpc: options.grpc } : {}) };
  return { service, stop, log: () => logged.join("\n") };
}

/**
 * Starts the demo network (see the module) and resolves once every service
 * is ready; a service that fails to start stops the others and rejects,
 * saying which and why.
 */
export async function startDemoNetwork(options: DemoNetworkOptions): Promise<DemoNetwork> {
  const { ports, dataDir } = options;
  const gossip = String(options.gossipIntervalSeconds ?? 2);
  const common = {
    dataDir,
    logLevel: options.logLevel ?? "warning",
    readyTimeoutMs: options.readyTimeoutMs ?? 30_000,
    ...(options.onLog ? { onLog: options.onLog } : {}),
  };
  const peerUrl = (port: number) => `http://127.0.0.1:${port}`;
  const plan: { name: string; entry: string; port: number; env: Record<string, string> }[] = [
    {
      name: "hub",
      entry: "hub/main.ts",
      port: ports.hub,
      env: { HUB_ID: "n0", GRPC_PORT: String(ports.hubGrpc) },
    },
    {
      name: "alpha",
      entry: "peer/main.ts",
      port: ports.alpha,
      env: {
        PEER_ID: "alpha",
        GOSSIP_SEEDS: peerUrl(ports.bravo),
        GOSSIP_INTERVAL_SECONDS: gossip,
      },
    },
    {
      name: "bravo",
      entry: "peer/main.ts",
      port: ports.bravo,
      env: {
        PEER_ID: "bravo",
        GOSSIP_SEEDS: peerUrl(ports.alpha),
        GOSSIP_INTERVAL_SECONDS: gossip,
      },
    },
    {
      name: "charlie",
      entry: "peer/main.ts",
      port: ports.charlie,
      env: {
        PEER_ID: "charlie",
        GOSSIP_SEEDS: peerUrl(ports.alpha),
        GOSSIP_INTERVAL_SECONDS: gossip,
      },
    },
    {
      name: "register",
      entry: "register/main.ts",
      port: ports.register,
      env: { PEER_URL: peerUrl(ports.alpha) },
    },
  ];
  const started: Started[] = [];
  const stopAll = async () => {
    for (const one of started.reverse()) await one.stop();
  };
  try {
    for (const step of plan) {
      started.push(
        await startService(step.name, step.entry, {
          ...common,
          port: step.port,
          env: step.env,
          ...(step.name === "hub" ? { grpc: `127.0.0.1:${ports.hubGrpc}` } : {}),
        }),
      );
    }
  } catch (error) {
    await stopAll();
    throw error;
  }
  const byName = new Map(started.map((one) => [one.service.name, one]));
  const service = (name: string) => byName.get(name)!.service;
  return {
    alpha: service("alpha"),
    bravo: service("bravo"),
    charlie: service("charlie"),
    register: service("register"),
    hub: service("hub") as DemoService & { grpc: string },
    services: started.map((one) => one.service),
    log: (name) => byName.get(name)?.log() ?? "",
    [Symbol.asyncDispose]: stopAll,
  };
}
