/**
 * The FullSync side of the hub benchmarks, kept apart from the hub's own
 * modules so that a process measuring it loads only what a syncing peer
 * loads: one client on a bulk channel of its own, streaming the whole
 * register.
 *
 * @module
 */
import { SystemRegisterSync } from "../../gen/sorcha/peer/v1/system_register_sync_pb.ts";
import { systemRegisterEntryDecoder } from "../../shared/contracts/system_register_entry_decoder.ts";
import {
  BULK_FLOW_CONTROL_WINDOW_BYTES,
  createClient,
  GrpcChannel,
} from "../../shared/grpc/mod.ts";
import { OWN_CONNECTION } from "./hub_push_probe.ts";

/** A FullSync of the whole register to one client, to time; dispose to close its channel. */
export interface HubFullSync extends Disposable {
  /** Streams every entry, from the call to the end of the stream; throws unless all arrived. */
  read(): Promise<void>;
}

/**
 * A client of `hub` on a channel of its own, and the FullSync of the whole
 * register (`entries` entries, genesis included) to time.
 */
export function prepareHubFullSync(
  hub: { grpcPort: number },
  options: { entries: number },
): HubFullSync {
  const { entries } = options;
  // A channel for bulk transfer, as a peer's sync channel (etcd's reader gets the same window).
  const channel = new GrpcChannel(`127.0.0.1:${hub.grpcPort}`, {
    channelOptions: OWN_CONNECTION,
    flowControlWindowBytes: BULK_FLOW_CONTROL_WINDOW_BYTES,
  });
  // As a peer's sync client: entries decoded by the contract's own decoder, not by reflection.
  const client = createClient(SystemRegisterSync, channel, {
    decoders: [systemRegisterEntryDecoder],
  });
  return {
    async read() {
      let received = 0;
      for await (const _entry of client.fullSync({ peerId: "bench-peer", fullSync: true })) {
        received++;
      }
      if (received !== entries) {
        throw new Error(`FullSync streamed ${received} entries, not ${entries}`);
      }
    },
    [Symbol.dispose]: () => channel.close(),
  };
}
