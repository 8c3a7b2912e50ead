/**
 * HTTP/2 keepalive pings from peers: a client pinging every second, also
 * between calls, keeps its connection to the hub (no GOAWAY, no reconnect).
 * Real time passes here, as the pings' timing is the point.
 */
import assert from "node:assert/strict";
import { connectivityState, getChannelzHandlers } from "@grpc/grpc-js";
import { CentralNodeConnection } from "../../gen/sorcha/peer/v1/central_node_connection_pb.ts";
import { createClient, type GrpcChannel } from "../../shared/grpc/mod.ts";
import { startTestHub } from "./hub_fixture.ts";

/** What the channelz handlers answer, as far as these tests read it. */
interface ChannelzAnswers {
  GetChannel: { channel: { subchannel_ref: { subchannel_id: number }[] } };
  GetSubchannel: { subchannel: { socket_ref: { socket_id: number }[] } };
  GetSocket: { socket: { data: { keep_alives_sent: number } } };
}

/** Calls one of grpc-js's channelz handlers in process, as the channelz service would. */
function channelz<M extends keyof ChannelzAnswers>(
  method: M,
  request: Record<string, string>,
): Promise<ChannelzAnswers[M]> {
  // The handlers are typed for grpc-js calls; they read only `request` and answer through the callback.
  const handler = getChannelzHandlers()[method] as unknown as (
    call: { request: Record<string, string> },
    callback: (error: unknown, answer: ChannelzAnswers[M]) => void,
  ) => void;
  return new Promise((resolve, reject) =>
    handler({ request }, (error, answer) => error ? reject(error) : resolve(answer))
  );
}

/** The channel's connections (channelz socket ids) and the keepalive pings each has sent. */
async function keepAlivesSent(channel: GrpcChannel): Promise<Map<number, number>> {
  const channelId = String(channel.client.getChannel().getChannelzRef().id);
  const { channel: info } = await channelz("GetChannel", { channel_id: channelId });
  const sent = new Map<number, number>();
  for (const { subchannel_id } of info.subchannel_ref) {
    const { subchannel } = await channelz("GetSubchannel", { subchannel_id: `${subchannel_id}` });
    for (const { socket_id } of subchannel.socket_ref) {
      const { socket } = await channelz("GetSocket", { socket_id: `${socket_id}` });
      sent.set(socket_id, socket.data.keep_alives_sent);
    }
  }
  return sent;
}

/** A grpc-js channel, as a client gives it. */
type Channel = ReturnType<GrpcChannel["client"]["getChannel"]>;

/** Resolves with whether `channel` left `state` within `ms` (false: it stayed). */
function leavesState(channel: Channel, state: connectivityState, ms: number): Promise<boolean> {
  return new Promise((resolve) =>
    channel.watchConnectivityState(state, Date.now() + ms, (error) => resolve(error === undefined))
  );
}

Deno.test("a client pinging every second while idle keeps its connection to the hub, and calls on it afterwards succeed", async () => {
  await using hub = await startTestHub();
  using channel = hub.channel({
    channelOptions: {
      "grpc.keepalive_time_ms": 1000,
      "grpc.keepalive_timeout_ms": 1000,
      "grpc.keepalive_permit_without_calls": 1,
    },
  });
  const connection = createClient(CentralNodeConnection, channel);
  await connection.getCentralNodeStatus({ peerId: "peer-1" });
  const grpcChannel = channel.client.getChannel();
  assert.equal(grpcChannel.getConnectivityState(false), connectivityState.READY);

  // Idle for 3 s: a GOAWAY (too_many_pings or any other) would move the channel out of READY.
  const left = await leavesState(grpcChannel, connectivityState.READY, 3000);

  assert.equal(left, false, "the channel left READY while idle");
  assert.equal(grpcChannel.getConnectivityState(false), connectivityState.READY);
  const pings = await keepAlivesSent(channel);
  assert.equal(pings.size, 1, "one connection");
  const [socket, sent] = [...pings][0]!;
  assert.ok(sent >= 2, `the client sent ${sent} keepalive pings in 3 s`);
  const status = await connection.getCentralNodeStatus({ peerId: "peer-1" });
  assert.equal(status.nodeId, "hub-test");
  assert.deepEqual([...(await keepAlivesSent(channel)).keys()], [socket], "the same connection");
});
