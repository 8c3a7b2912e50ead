/**
 * The end-to-end walk-through of `deno task demo --smoke`, against a running
 * demo network: every service ready; a register created on the register
 * service reaches alpha at once and bravo and charlie by gossip; a blueprint
 * published on the hub (n0) is notified to a gRPC subscriber and streamed by
 * a full sync; the register withdrawn leaves every peer; then the hub link
 * (`smoke_hubs.ts`): replicas equal to the hub's, a publication in every
 * replica within 1 s, a failover within 3 s, isolation, reconnection. Each
 * check prints one line, `PASS` or `FAIL` with what was seen.
 *
 * @module
 */
import { SystemRegisterSync } from "../gen/sorcha/peer/v1/system_register_sync_pb.ts";
import { NotificationType } from "../gen/sorcha/peer/v1/system_register_sync_pb.ts";
import { within } from "../shared/async.ts";
import { createClient, GrpcChannel } from "../shared/grpc/mod.ts";
import type { DemoNetwork, DemoService } from "./network.ts";
import {
  type CheckCounts,
  checker,
  CheckFailed,
  eventually,
  expect,
  json,
  send,
} from "./smoke_checks.ts";
import { hubLinkChecks } from "./smoke_hubs.ts";

/** Options of {@link walkThrough}. */
export interface WalkThroughOptions {
  /** Where each check's line goes (default console.log). */
  print?: (line: string) => void;
  /** Longest wait for gossip to spread a change, in ms (default 30,000). */
  gossipTimeoutMs?: number;
  /** Longest wait for peers to connect to hubs, be isolated or reconnect, in ms (default 20,000). */
  hubLinkTimeoutMs?: number;
}

/** What the walk-through found. */
export type WalkThroughResult = CheckCounts;

interface Available {
  registerId: string;
  peerCount: number;
  isLocal: boolean;
}

async function available(peer: DemoService): Promise<Available[]> {
  return await json(
    await fetch(`${peer.url}/api/registers/available`),
    `GET ${peer.name} /api/registers/available`,
  );
}

/** Runs the walk-through against `network`; see the module. */
export async function walkThrough(
  network: DemoNetwork,
  options: WalkThroughOptions = {},
): Promise<WalkThroughResult> {
  const gossipMs = options.gossipTimeoutMs ?? 30_000;
  const result: WalkThroughResult = { passed: 0, failed: 0 };
  const check = checker(options.print ?? console.log, result);
  const { alpha, bravo, charlie, register, hub, peers } = network;

  await check("every service is ready", async () => {
    for (const service of network.services) {
      const response = await fetch(`${service.url}/readyz`);
      await response.body?.cancel();
      expect(response.ok, `${service.name} /readyz answered ${response.status}`);
    }
    return network.services.map((s) => `${s.name} ${s.url}`).join(", ");
  });

  await check("every service serves its metrics in the Prometheus text format", async () => {
    const expected = [
      ...peers.map((service) => ({ service, metric: "sorcha_peer_advertisements" })),
      ...network.hubs.map((service) => ({ service, metric: "sorcha_hub_publications_total" })),
      { service: register, metric: "sorcha_register_reconciliation_runs_total" },
    ];
    for (const { service, metric } of expected) {
      const response = await fetch(`${service.url}/metrics`);
      const text = await response.text();
      expect(response.ok, `${service.name} /metrics answered ${response.status}`);
      expect(text.includes(`# TYPE ${metric} `), `${service.name} /metrics lacks ${metric}`);
    }
    return `${expected.length} services`;
  });

  let registerId = "";
  const created = await check("the register service creates a public register", async () => {
    const body = await json<{ id: string }>(
      await send(`${register.url}/api/registers`, "POST", {
        name: "Land titles",
        advertise: true,
        isPublic: true,
      }),
      "POST /api/registers",
      201,
    );
    expect(/^[0-9a-f]{32}$/.test(body.id), `the id ${body.id} is not 32 hex characters`);
    registerId = body.id;
    return registerId;
  });
  if (created) {
    await check("alpha advertises it at once, as its own", async () => {
      await eventually("alpha lists the register", async () => {
        return (await available(alpha)).some((a) => a.registerId === registerId && a.isLocal);
      }, 5_000);
    });
    await check("bravo and charlie learn it from alpha by gossip", async () => {
      const began = Date.now();
      for (const peer of [bravo, charlie]) {
        await eventually(`${peer.name} lists the register`, async () => {
          return (await available(peer)).some((a) =>
            a.registerId === registerId && !a.isLocal && a.peerCount >= 1
          );
        }, gossipMs);
      }
      return `in ${Date.now() - began} ms`;
    });
  }

  await check("the hub holds the system register, intact", async () => {
    const info = await json<{ currentVersion: number; integrity: { state: string } }>(
      await fetch(`${hub.url}/api/system-register`),
      "GET /api/system-register",
    );
    expect(info.integrity.state === "intact", `integrity is ${info.integrity.state}`);
    expect(info.currentVersion >= 1, `current version ${info.currentVersion}`);
    return `version ${info.currentVersion}`;
  });

  await check("a blueprint published on the hub is notified to a gRPC subscriber", async () => {
    using channel = new GrpcChannel(hub.grpc);
    const client = createClient(SystemRegisterSync, channel);
    const stop = new AbortController();
    const blueprintId = `demo-blueprint-${Date.now()}`;
    let subscribed!: () => void;
    const inPlace = new Promise<void>((resolve) => subscribed = resolve);
    let notified!: (version: bigint) => void;
    const arrived = new Promise<bigint>((resolve) => notified = resolve);
    // Settles only when the subscription ends: early, with its error (a failed check).
    const ended = client.subscribeToPushNotifications(
      { peerId: "demo-smoke", sessionId: "demo-smoke" },
      { signal: stop.signal },
    ).listen((notification) => {
      subscribed();
      if (
        notification.blueprintId === blueprintId &&
        notification.type === NotificationType.BLUEPRINT_PUBLISHED
      ) notified(notification.version);
    }).then(() => {
      throw new CheckFailed("the subscription ended");
    });
    ended.catch(() => {}); // raced below; its error is the check's
    try {
      await within(Promise.race([inPlace, ended]), { ms: 5_000, what: "the first frame" });
      const published = await json<{ version: number; checksum: string }>(
        await send(`${hub.url}/api/system-register/blueprints`, "POST", {
          blueprintId,
          document: { title: "Demo blueprint", description: "published by the smoke run" },
          publishedBy: "demo",
        }),
        "POST /api/system-register/blueprints",
        201,
      );
      const version = await within(Promise.race([arrived, ended]), {
        ms: 5_000,
        what: "the notification",
      });
      expect(
        Number(version) === published.version,
        `notified version ${version}, published ${published.version}`,
      );
      const entries = [];
      for await (const entry of client.fullSync({ peerId: "demo-smoke" })) entries.push(entry);
      const last = entries.at(-1);
      expect(last?.blueprintId === blueprintId, `the full sync ends with ${last?.blueprintId}`);
      expect(last.checksum === published.checksum, "the full sync's checksum differs");
      return `${blueprintId}, version ${published.version}, full sync of ${entries.length} entries`;
    } finally {
      stop.abort();
      await ended.catch(() => {});
    }
  });

  if (created) {
    await check("the register withdrawn leaves every peer", async () => {
      await json(
        await send(`${register.url}/api/registers/${registerId}`, "PATCH", { advertise: false }),
        `PATCH /api/registers/${registerId}`,
      );
      for (const peer of peers) {
        await eventually(`${peer.name} no longer lists the register`, async () => {
          return !(await available(peer)).some((a) => a.registerId === registerId);
        }, gossipMs);
      }
    });
  }

  await hubLinkChecks(network, check, {
    ...(options.hubLinkTimeoutMs ? { timeoutMs: options.hubLinkTimeoutMs } : {}),
  });
  return result;
}
