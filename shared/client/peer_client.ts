/**
 * The typed client of the peer service: one method per endpoint, answers
 * validated with the same zod schemas the peer serves, failures as
 * {@link AppError}s. Built on `fetch`, which tests replace with
 * `(request) => app.request(request)` to call a Hono app without sockets.
 *
 * @module
 */
import { z } from "zod";
import {
  type AdvertiseRegisterInput,
  type AdvertiseRegisterResponse,
  AdvertiseRegisterResponseSchema,
  type AvailableRegisterInfo,
  AvailableRegistersSchema,
  type BulkAdvertiseInput,
  type BulkAdvertiseResponse,
  BulkAdvertiseResponseSchema,
  type SyncStateResponse,
  SyncStateResponseSchema,
  type WithdrawRegisterResponse,
  WithdrawRegisterResponseSchema,
} from "../contracts/advertisements.ts";
import {
  type ExchangeRequest,
  type ExchangeResponse,
  ExchangeResponseSchema,
  type ForgetPeerResponse,
  ForgetPeerResponseSchema,
  type PeersResponse,
  PeersResponseSchema,
  type PushRequest,
  type PushResponse,
  PushResponseSchema,
} from "../contracts/gossip.ts";
import { type CallOptions, JsonClient, type JsonClientOptions } from "./json_client.ts";

/** `GET /healthz` answer. */
export const HealthSchema = z.object({
  status: z.string(),
  service: z.string(),
  version: z.string(),
});

/** `GET /readyz` answer (200 only; a 503 is thrown as `unavailable`). */
export const ReadinessSchema = z.object({
  status: z.string(),
  ready: z.boolean(),
  dependencies: z.record(z.string(), z.object({ state: z.string() }).passthrough()),
});

/** Options of {@link PeerClient}: where the peer is, its token, timeout and `fetch`. */
export type PeerClientOptions = Omit<JsonClientOptions, "serviceName">;

/** Calls the peer service's HTTP API. */
export class PeerClient {
  readonly #http: JsonClient;

  /** Creates a client of the peer at `options.baseUrl`. */
  constructor(options: PeerClientOptions) {
    this.#http = new JsonClient({ ...options, serviceName: "peer" });
  }

  /** The peer's base URL. */
  get baseUrl(): string {
    return this.#http.baseUrl;
  }

  /**
   * `POST /api/registers/bulk-advertise`. `request` may also be the JSON text
   * of the body, already serialized (a reconciliation sends the same bytes
   * when nothing changed, which the peer answers without parsing).
   */
  bulkAdvertise(
    request: BulkAdvertiseInput | string,
    options?: CallOptions,
  ): Promise<BulkAdvertiseResponse> {
    return this.#http.send({
      method: "POST",
      path: "/api/registers/bulk-advertise",
      body: request,
      schema: BulkAdvertiseResponseSchema,
      action: "Cannot bulk-advertise registers",
    }, options);
  }

  /** `GET /api/registers/available`: public registers, local and remote. */
  available(options?: CallOptions): Promise<AvailableRegisterInfo[]> {
    return this.#http.send({
      method: "GET",
      path: "/api/registers/available",
      schema: AvailableRegistersSchema,
      action: "Cannot list available registers",
    }, options);
  }

  /** `POST /api/registers/{registerId}/advertise`. */
  advertise(
    registerId: string,
    request: AdvertiseRegisterInput,
    options?: CallOptions,
  ): Promise<AdvertiseRegisterResponse> {
    return this.#http.send({
      method: "POST",
      path: `/api/registers/${encodeURIComponent(registerId)}/advertise`,
      body: request,
      schema: AdvertiseRegisterResponseSchema,
      action: `Cannot advertise register "${registerId}"`,
    }, options);
  }

  /** `DELETE /api/registers/{registerId}/advertise`. */
  withdraw(registerId: string, options?: CallOptions): Promise<WithdrawRegisterResponse> {
    return this.#http.send({
      method: "DELETE",
      path: `/api/registers/${encodeURIComponent(registerId)}/advertise`,
      schema: WithdrawRegisterResponseSchema,
      action: `Cannot withdraw register "${registerId}"`,
    }, options);
  }

  /** `GET /api/registers/sync-state`: the last full sync and the store's state. */
  syncState(options?: CallOptions): Promise<SyncStateResponse> {
    return this.#http.send({
      method: "GET",
      path: "/api/registers/sync-state",
      schema: SyncStateResponseSchema,
      action: "Cannot read the peer's sync state",
    }, options);
  }

  /**
   * `POST /api/gossip/exchange`: this node's digest out, the records it
   * lacks back. Build the client with `token: NETWORK_TOKEN`.
   */
  gossipExchange(request: ExchangeRequest, options?: CallOptions): Promise<ExchangeResponse> {
    return this.#http.send({
      method: "POST",
      path: "/api/gossip/exchange",
      body: request,
      schema: ExchangeResponseSchema,
      action: "Cannot exchange gossip",
    }, options);
  }

  /** `POST /api/gossip/push`: the records the other side wanted. */
  gossipPush(request: PushRequest, options?: CallOptions): Promise<PushResponse> {
    return this.#http.send({
      method: "POST",
      path: "/api/gossip/push",
      body: request,
      schema: PushResponseSchema,
      action: "Cannot push gossip records",
    }, options);
  }

  /** `GET /api/peers`: the peers this one knows. */
  peers(options?: CallOptions): Promise<PeersResponse> {
    return this.#http.send({
      method: "GET",
      path: "/api/peers",
      schema: PeersResponseSchema,
      action: "Cannot list the peer's known peers",
    }, options);
  }

  /** `DELETE /api/peers/{peerId}`: forgets a peer, its key and its advertisements. */
  forgetPeer(
    peerId: string,
    options?: CallOptions,
  ): Promise<ForgetPeerResponse> {
    return this.#http.send({
      method: "DELETE",
      path: `/api/peers/${encodeURIComponent(peerId)}`,
      schema: ForgetPeerResponseSchema,
      action: `Cannot forget peer "${peerId}"`,
    }, options);
  }

  /** `GET /healthz`. */
  health(options?: CallOptions): Promise<z.output<typeof HealthSchema>> {
    return this.#http.send({
      method: "GET",
      path: "/healthz",
      schema: HealthSchema,
      action: "Cannot check the peer's health",
    }, options);
  }

  /** `GET /readyz`; a peer that is not ready throws `unavailable`. */
  readiness(options?: CallOptions): Promise<z.output<typeof ReadinessSchema>> {
    return this.#http.send({
      method: "GET",
      path: "/readyz",
      schema: ReadinessSchema,
      action: "Cannot check whether the peer is ready",
    }, options);
  }
}
