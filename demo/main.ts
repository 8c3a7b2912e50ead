/**
 * `deno task demo`: a whole local network on loopback with embedded stores
 * (three hubs on one store, three peers linked to them, the register
 * service; see `network.ts`), on the README's ports, with timings an
 * operator can watch (2 s heartbeats), its data under `.data/demo` (emptied
 * first), until Ctrl-C.
 *
 * `deno task demo --smoke`: the same network on free ports in a temporary
 * directory with fast hub-link timings, the end-to-end walk-through of
 * `smoke.ts` (and `smoke_hubs.ts`), one line per check;
 * exits 0 when every check passed, 1 otherwise.
 *
 * @module
 */
import {
  DEFAULT_DEMO_PORTS,
  type DemoNetwork,
  type DemoPorts,
  INTERACTIVE_TIMINGS,
  listPorts,
  SMOKE_TIMINGS,
  startDemoNetwork,
} from "./network.ts";
import { errorMessage } from "../shared/errors.ts";
import { freePort } from "../shared/ports.ts";
import { walkThrough } from "./smoke.ts";

const ROOT = new URL("../", import.meta.url).pathname;

function freePorts(): DemoPorts {
  return {
    alpha: freePort(),
    bravo: freePort(),
    charlie: freePort(),
    register: freePort(),
    hubs: [
      { http: freePort(), grpc: freePort() },
      { http: freePort(), grpc: freePort() },
      { http: freePort(), grpc: freePort() },
    ],
  };
}

async function smoke(): Promise<number> {
  const dataDir = await Deno.makeTempDir({ prefix: "sorcha-demo-" });
  let network: DemoNetwork | undefined;
  try {
    console.log("Starting the demo network (3 hubs, 3 peers, the register service) ...");
    network = await startDemoNetwork({
      dataDir,
      ports: freePorts(),
      gossipIntervalSeconds: 0.5,
      timings: SMOKE_TIMINGS,
    });
    const { passed, failed } = await walkThrough(network);
    console.log(`${passed} checks passed, ${failed} failed`);
    if (failed > 0) {
      for (const service of network.services) {
        const log = network.log(service.name).trim();
        if (log) console.log(`--- ${service.name} log ---\n${log}`);
      }
    }
    return failed === 0 ? 0 : 1;
  } catch (error) {
    console.log(`FAIL  the demo network: ${errorMessage(error)}`);
    return 1;
  } finally {
    await network?.[Symbol.asyncDispose]();
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
}

async function interactive(): Promise<number> {
  const dataDir = `${ROOT}.data/demo`;
  await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  const ports = DEFAULT_DEMO_PORTS;
  console.log("Starting the demo network (3 hubs, 3 peers, the register service) ...");
  let network: DemoNetwork;
  try {
    network = await startDemoNetwork({
      dataDir,
      ports,
      timings: INTERACTIVE_TIMINGS,
      onLog: (service, line) => console.error(`[${service}] ${line}`),
    });
  } catch (error) {
    console.error(
      `Cannot start the demo network: ${errorMessage(error)}` +
        ` (ports ${listPorts(ports).join(", ")} must be free)`,
    );
    return 1;
  }
  await using _network = network;
  for (const service of network.services) {
    console.log(
      `  ${service.name.padEnd(9)} ${service.url}${service.grpc ? `  gRPC ${service.grpc}` : ""}`,
    );
  }
  // The "Peer Network" admin page of each peer (live; README, Admin page).
  for (const peer of network.peers) console.log(`peer ${peer.name} admin page: ${peer.url}/`);
  const [n0, n1] = network.hubs;
  if (!n0 || !n1) throw new Error("the demo network has fewer than two hubs");
  console.log(`
Hub link of each peer (HUB_NODES=${network.hubs.map((hub) => hub.grpc).join(",")}):
${network.peers.map((peer) => `  curl -s ${peer.url}/api/connection/status`).join("\n")}
Hubs (one system register):
${network.hubs.map((hub) => `  curl -s ${hub.url}/api/system-register`).join("\n")}
Metrics of each service (Prometheus text format; README, Operate):
${
    network.services.map((service) => `  ${service.name.padEnd(9)} ${service.url}/metrics`).join(
      "\n",
    )
  }

Try:
  curl -s -X POST ${network.register.url}/api/registers -H 'content-type: application/json' \\
    -d '{"name":"Land titles","advertise":true}'
  curl -s ${network.alpha.url}/api/registers/available      # at once on alpha
  curl -s ${network.charlie.url}/api/registers/available    # a gossip round or two later
  curl -s -X POST ${n1.url}/api/system-register/blueprints -H 'content-type: application/json' \\
    -d '{"blueprintId":"land-transfer-v1","document":{"title":"Land transfer"}}'   # on n1
  curl -s ${network.charlie.url}/api/system-register/blueprints/land-transfer-v1   # in charlie's replica
  curl -s ${network.charlie.url}/api/sync/checkpoint        # the replica's version and digest
  grpcurl -plaintext ${n0.grpc} list
  kill -9 ${network.pid(n0.name)}    # n0 gone: the peers fail over to n1 within about 6 s

Data under ${dataDir}. Ctrl-C stops the network.`);
  const stop = Promise.withResolvers<void>();
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  const onSignal = () => stop.resolve();
  for (const signal of signals) Deno.addSignalListener(signal, onSignal);
  await stop.promise;
  for (const signal of signals) Deno.removeSignalListener(signal, onSignal);
  console.log("Stopping the demo network ...");
  return 0;
}

if (import.meta.main) {
  Deno.exit(Deno.args.includes("--smoke") ? await smoke() : await interactive());
}
