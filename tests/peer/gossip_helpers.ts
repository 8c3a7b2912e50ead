/**
 * Gossiping peers in one process: each is the real peer app (registry over
 * an in-memory store, gossiper, routes) at `http://{name}.test`, and their
 * messages travel through the typed client to each other's `app.request`.
 * Requests to any other host go out on the real network (a test's own
 * listener). Time is a shared manual clock; rounds run when a test calls them.
 *
 * @module
 */
import { ManualClock } from "../../shared/clock.ts";
import type { AdvertisementRegistry } from "../../peer/advertisements/mod.ts";
import {
  createHttpTransport,
  type Gossiper,
  type Membership,
  type MembershipOptions,
  type PeerSigner,
} from "../../peer/gossip/mod.ts";
import type { MemoryAdvertisementStore } from "../../peer/store/memory_store.ts";
import type { HttpApp } from "../../shared/http/app.ts";
import type { ServiceMetrics } from "../../shared/telemetry/mod.ts";
import { callApp, type CallResult } from "../fixtures/http.ts";
import { FakeScheduler } from "../fixtures/fake_scheduler.ts";
import { createGossipPeer } from "../fixtures/gossip_network.ts";

/** One request that travelled between peers. */
export interface Sent {
  /** Which peer it went to. */
  to: string;
  /** Its method. */
  method: string;
  /** Its path. */
  path: string;
  /** Its `Authorization` header, if any. */
  authorization: string | null;
  /** Its body text. */
  body: string;
}

/** Options of one peer of a {@link TestNetwork}. */
export interface GossipPeerOptions {
  /** Names of the peers it starts from. */
  seeds?: string[];
  /** Reuse a store (to test restarts). */
  store?: MemoryAdvertisementStore;
  /** Reuse a key (to test restarts). */
  signer?: PeerSigner;
  /** Where to keep the membership list. */
  membershipPath?: string;
  /** Membership options. */
  membership?: Partial<Pick<MembershipOptions, "maxPeers" | "maxFailures">>;
  /** API token. */
  apiToken?: string;
  /** Metrics its registry and gossiper record, served at `/metrics` (default: none). */
  metrics?: ServiceMetrics;
}

/** A gossiping peer under test. */
export interface GossipPeer {
  name: string;
  url: string;
  app: HttpApp;
  registry: AdvertisementRegistry;
  store: MemoryAdvertisementStore;
  gossiper: Gossiper;
  membership: Membership;
  signer: PeerSigner;
  /** Runs its rounds once started (by hand). */
  scheduler: FakeScheduler;
  /** Sends a request to this peer's app. */
  call(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<CallResult>;
  /** Ids of the registers `available` lists here. */
  availableIds(): string[];
  /** Stops it (its address then refuses connections). */
  close(): Promise<void>;
}

/** Options of {@link createTestNetwork}. */
export interface TestNetworkOptions {
  /** NETWORK_TOKEN of every peer. */
  networkToken?: string;
  /** TTL in seconds (default 300; grace is a quarter of it). */
  ttlSeconds?: number;
  /** Gossip interval in seconds (default 30). */
  intervalSeconds?: number;
  /** Random numbers for every gossiper (default `Math.random`). */
  random?: () => number;
}

/** Peers that reach each other in memory. */
export interface TestNetwork extends AsyncDisposable {
  clock: ManualClock;
  /** Every request sent between peers. */
  sent: Sent[];
  /** Adds a peer named `name` at `http://{name}.test`. */
  add(name: string, options?: GossipPeerOptions): Promise<GossipPeer>;
  /** The lease (TTL plus grace) in ms. */
  leaseMs: number;
  /** The interval in ms. */
  intervalMs: number;
}

/** Creates an empty network; add peers with `add`. */
export function createTestNetwork(options: TestNetworkOptions = {}): TestNetwork {
  const clock = new ManualClock();
  const peers = new Map<string, GossipPeer>();
  const sent: Sent[] = [];
  const ttlMs = (options.ttlSeconds ?? 300) * 1000;
  const leaseMs = ttlMs * 1.25;
  const intervalMs = (options.intervalSeconds ?? 30) * 1000;
  const transport = createHttpTransport({
    networkToken: options.networkToken,
    fetch: (request) => fetch(request),
  });
  const fetch = async (request: Request) => {
    const host = new URL(request.url).hostname;
    const name = host.replace(/\.test$/, "");
    const peer = peers.get(name);
    const body = await request.clone().text();
    sent.push({
      to: name,
      method: request.method,
      path: new URL(request.url).pathname,
      authorization: request.headers.get("authorization"),
      body,
    });
    if (!host.endsWith(".test")) return await globalThis.fetch(request, { redirect: "error" });
    if (!peer) throw new TypeError(`error sending request: connection refused (${host})`);
    return await peer.app.request(request);
  };
  return {
    clock,
    sent,
    leaseMs,
    intervalMs,
    async add(name, peerOptions = {}) {
      const url = `http://${name}.test`;
      const scheduler = new FakeScheduler(clock);
      const { registry, store, membership, gossiper, signer, app } = await createGossipPeer({
        peerId: name,
        url,
        clock,
        scheduler,
        transport,
        seeds: (peerOptions.seeds ?? []).map((seed) => `http://${seed}.test`),
        intervalMs,
        ttlMs,
        ...(peerOptions.store ? { store: peerOptions.store } : {}),
        ...(peerOptions.signer ? { signer: peerOptions.signer } : {}),
        ...(peerOptions.membershipPath ? { membershipPath: peerOptions.membershipPath } : {}),
        ...(peerOptions.membership ? { membership: peerOptions.membership } : {}),
        ...(peerOptions.apiToken ? { apiToken: peerOptions.apiToken } : {}),
        ...(peerOptions.metrics ? { metrics: peerOptions.metrics } : {}),
        ...(options.networkToken ? { networkToken: options.networkToken } : {}),
        ...(options.random ? { random: options.random } : {}),
      });
      const peer: GossipPeer = {
        name,
        url,
        app,
        registry,
        store,
        gossiper,
        membership,
        signer,
        scheduler,
        call: (method, path, body, headers) =>
          callApp(app, { method, path, body, ...(headers ? { headers } : {}) }),
        availableIds: () => registry.available().map((info) => info.registerId),
        async close() {
          if (peers.get(name) !== peer) return;
          peers.delete(name);
          await gossiper.close();
          await registry.close();
        },
      };
      peers.set(name, peer);
      return peer;
    },
    async [Symbol.asyncDispose]() {
      for (const peer of [...peers.values()]) await peer.close();
    },
  };
}
