/**
 * The hub-link part of the smoke walk-through, against a running demo
 * network (three hubs on one store; every peer lists n0, n1, n2):
 *
 * 1. every peer is connected to n0, with a replica equal to the hub's (every
 *    page of `GET /api/system-register/blueprints`: the same blueprint ids,
 *    versions and checksums; the peer's checkpoint at the hub's version);
 * 2. a blueprint published on n1 is in every replica within 1 s of the
 *    publication's answer;
 * 3. n0 killed (SIGKILL), every peer is connected to n1 within 3 s of the
 *    kill;
 * 4. every hub stopped, the peers are `Isolated` and still serve the
 *    replica (the same entries);
 * 5. n0 started again (same ports, same store), every peer is connected to
 *    it again, with a replica equal to its register.
 *
 * Times are measured by polling every peer at once every 20 ms, and printed
 * on the check's line. The checks after the first need it to pass (they are
 * skipped otherwise: without a link there is nothing to fail over).
 *
 * @module
 */
import type { z } from "@hono/zod-openapi";
import type {
  CheckpointSchema,
  ConnectionStatusSchema,
  ReplicaEntrySchema,
  ReplicaListSchema,
} from "../peer/hub_link/mod.ts";
import type {
  BlueprintListSchema,
  PublishBlueprintResponse,
  SystemRegisterInfoSchema,
} from "../shared/contracts/system_register.ts";
import type { DemoHub, DemoNetwork, DemoService, HubId } from "./network.ts";
import { type Check, expect, json, type PollResult, send, untilEach } from "./smoke_checks.ts";

type ConnectionStatus = z.output<typeof ConnectionStatusSchema>;
type Checkpoint = z.output<typeof CheckpointSchema>;
type ReplicaEntry = z.output<typeof ReplicaEntrySchema>;
type ReplicaList = z.output<typeof ReplicaListSchema>;
type HubList = z.output<typeof BlueprintListSchema>;
type HubInfo = z.output<typeof SystemRegisterInfoSchema>;

/** Options of {@link hubLinkChecks}. */
export interface HubLinkChecksOptions {
  /** Longest wait for peers to connect, be isolated or reconnect, in ms (default 20,000). */
  timeoutMs?: number;
}

/** Budget of check 2: a publication in every replica, in ms. */
const PUBLICATION_BUDGET_MS = 1000;
/** Budget of check 3: every peer on n1 after n0 is killed, in ms. */
const FAILOVER_BUDGET_MS = 3000;
/** Entries per page when listing a register (the endpoints' largest page). */
const PAGE_SIZE = 1000;

/** Every active entry `service` lists, page after page, as `blueprintId@version checksum`. */
async function listed(service: DemoService): Promise<string[]> {
  const entries: string[] = [];
  let since: number | null = 0;
  while (since !== null) {
    const url: string =
      `${service.url}/api/system-register/blueprints?sinceVersion=${since}&limit=${PAGE_SIZE}`;
    const page: HubList | ReplicaList = await json<HubList | ReplicaList>(
      await fetch(url),
      `GET ${service.name} /api/system-register/blueprints?sinceVersion=${since}`,
    );
    for (const entry of page.blueprints) {
      entries.push(`${entry.blueprintId}@${entry.version} ${entry.checksum}`);
    }
    expect(
      page.nextSinceVersion === null || page.nextSinceVersion > since,
      `${service.name}'s pages do not move on from version ${since}`,
    );
    since = page.nextSinceVersion;
  }
  return entries.sort();
}

/** Why `entries` (a peer's) differ from `reference` (`whose`); undefined when they are equal. */
function entriesDiffer(entries: string[], reference: string[], whose: string): string | undefined {
  const mine = new Set(entries);
  const theirs = new Set(reference);
  const missing = reference.filter((entry) => !mine.has(entry));
  const extra = entries.filter((entry) => !theirs.has(entry));
  if (missing.length === 0 && extra.length === 0 && entries.length === reference.length) {
    return undefined;
  }
  return `${entries.length} entries against ${reference.length} on ${whose}; ` +
    `missing ${missing.length}${missing[0] ? ` (${missing[0]})` : ""}, ` +
    `extra ${extra.length}${extra[0] ? ` (${extra[0]})` : ""}`;
}

/** Why `peer`'s replica differs from `hub`'s register; undefined when it is equal. */
async function replicaDiffers(peer: DemoService, hub: DemoHub): Promise<string | undefined> {
  const [info, checkpoint] = await Promise.all([
    fetch(`${hub.url}/api/system-register`).then((r) =>
      json<HubInfo>(r, `GET ${hub.name} /api/system-register`)
    ),
    fetch(`${peer.url}/api/sync/checkpoint`).then((r) =>
      json<Checkpoint>(r, `GET ${peer.name} /api/sync/checkpoint`)
    ),
  ]);
  if (checkpoint.currentVersion !== info.currentVersion) {
    return `checkpoint at version ${checkpoint.currentVersion}, ${hub.name} at ${info.currentVersion}`;
  }
  const [mine, theirs] = await Promise.all([listed(peer), listed(hub)]);
  return entriesDiffer(mine, theirs, hub.name);
}

async function connectionStatus(peer: DemoService): Promise<ConnectionStatus> {
  return await json<ConnectionStatus>(
    await fetch(`${peer.url}/api/connection/status`),
    `GET ${peer.name} /api/connection/status`,
  );
}

/** `true` when `peer` is connected to `hub`; otherwise what it is. */
async function connectedTo(peer: DemoService, hub: HubId): Promise<PollResult> {
  const status = await connectionStatus(peer);
  if (status.status === "Connected" && status.connectedCentralNodeId === hub) return true;
  return `${status.status}${
    status.connectedCentralNodeId ? ` to ${status.connectedCentralNodeId}` : ""
  }`;
}

/** The slowest of `times`. */
function slowest(times: Map<string, number>): number {
  return Math.max(...times.values());
}

/** `alpha 120, bravo 142, charlie 130` (ms). */
function each(times: Map<string, number>): string {
  return [...times].map(([name, ms]) => `${name} ${ms}`).join(", ");
}

/** Runs the hub-link checks (see the module) with `check`. */
export async function hubLinkChecks(
  network: DemoNetwork,
  check: Check,
  options: HubLinkChecksOptions = {},
): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 20_000;
  const { peers } = network;
  const [n0, n1] = network.hubs;
  if (!n0 || !n1) throw new Error("the demo network has fewer than two hubs");

  const linked = await check(
    `every peer is connected to ${n0.name} with a replica equal to the hub's`,
    async () => {
      const since = Date.now();
      await untilEach(peers, async (peer) => {
        const connected = await connectedTo(peer, n0.name);
        if (connected !== true) return connected;
        return (await replicaDiffers(peer, n0)) ?? true;
      }, {
        what: `connected to ${n0.name} with an equal replica`,
        since,
        timeoutMs,
        intervalMs: 100,
      });
      const entries = await listed(n0);
      const info = await json<HubInfo>(
        await fetch(`${n0.url}/api/system-register`),
        `GET ${n0.name} /api/system-register`,
      );
      return `version ${info.currentVersion}, ${entries.length} blueprints, in ${
        Date.now() - since
      } ms`;
    },
  );
  if (!linked) return;

  await check(
    `a blueprint published on ${n1.name} is in every replica within ${
      PUBLICATION_BUDGET_MS / 1000
    } s`,
    async () => {
      const blueprintId = `demo-hub-link-${Date.now()}`;
      const answer = await send(`${n1.url}/api/system-register/blueprints`, "POST", {
        blueprintId,
        document: { title: "Published on n1", description: "for every replica" },
        publishedBy: "demo",
      });
      const since = Date.now();
      const published = await json<PublishBlueprintResponse>(
        answer,
        `POST ${n1.name} /api/system-register/blueprints`,
        201,
      );
      const times = await untilEach(peers, async (peer) => {
        const response = await fetch(`${peer.url}/api/system-register/blueprints/${blueprintId}`);
        if (response.status === 404) {
          await response.body?.cancel();
          return "not in its replica";
        }
        const entry = await json<ReplicaEntry>(response, `GET ${peer.name} ${blueprintId}`);
        if (entry.version === published.version && entry.checksum === published.checksum) {
          return true;
        }
        return `version ${entry.version} ${entry.checksum}`;
      }, { what: `${blueprintId} in every replica`, since, timeoutMs: 10_000 });
      expect(
        slowest(times) <= PUBLICATION_BUDGET_MS,
        `in every replica after ${slowest(times)} ms (${
          each(times)
        }), over ${PUBLICATION_BUDGET_MS} ms`,
      );
      return `(${slowest(times)} ms: ${each(times)})`;
    },
  );

  await check(
    `${n0.name} killed, every peer connected to ${n1.name} within ${FAILOVER_BUDGET_MS / 1000} s`,
    async () => {
      const since = Date.now();
      await network.killHub(n0.name);
      const times = await untilEach(peers, (peer) => connectedTo(peer, n1.name), {
        what: `connected to ${n1.name}`,
        since,
        timeoutMs,
      });
      expect(
        slowest(times) <= FAILOVER_BUDGET_MS,
        `every peer on ${n1.name} after ${slowest(times)} ms (${
          each(times)
        }), over ${FAILOVER_BUDGET_MS} ms`,
      );
      return `(${slowest(times)} ms: ${each(times)})`;
    },
  );

  await check("every hub stopped, peers Isolated and still serving the replica", async () => {
    const reference = await listed(n1);
    const since = Date.now();
    await Promise.all(network.hubs.map((hub) => network.stopHub(hub.name)));
    const times = await untilEach(peers, async (peer) => {
      const status = await connectionStatus(peer);
      if (status.status !== "Isolated") return status.status;
      if (status.isolatedSince === null) return "Isolated without isolatedSince";
      return entriesDiffer(await listed(peer), reference, "the hubs") ?? true;
    }, { what: "Isolated, serving the replica", since, timeoutMs });
    return `(${slowest(times)} ms: ${each(times)}; ${reference.length} blueprints served by each)`;
  });

  await check(
    `a hub started again (${n0.name}), peers connected again with a replica equal to the hub's`,
    async () => {
      await network.startHub(n0.name);
      const since = Date.now();
      const times = await untilEach(peers, async (peer) => {
        const connected = await connectedTo(peer, n0.name);
        if (connected !== true) return connected;
        return (await replicaDiffers(peer, n0)) ?? true;
      }, { what: `connected to ${n0.name} again`, since, timeoutMs });
      return `(${slowest(times)} ms after it was ready: ${each(times)})`;
    },
  );
}
