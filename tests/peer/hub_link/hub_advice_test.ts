/**
 * What the link makes of a hub's heartbeat answers and of missed beats
 * (pure decisions, `hub_advice.ts`), and its failover log.
 */
import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import { DisconnectReason } from "../../../gen/sorcha/peer/v1/central_node_connection_pb.ts";
import {
  HeartbeatAcknowledgementSchema,
  RecommendedAction,
} from "../../../gen/sorcha/peer/v1/heartbeat_pb.ts";
import { FailoverLog, RECENT_FAILOVERS } from "../../../peer/hub_link/failovers.ts";
import { adviceOnAcknowledgement, adviceOnMiss } from "../../../peer/hub_link/hub_advice.ts";
import { AppError } from "../../../shared/errors.ts";

const ack = (fields: Parameters<typeof create<typeof HeartbeatAcknowledgementSchema>>[1]) =>
  create(HeartbeatAcknowledgementSchema, { success: true, ...fields });

Deno.test("a heartbeat answer's action becomes the link's advice", () => {
  assert.deepEqual(adviceOnAcknowledgement(ack({ currentSystemRegisterVersion: 7n })), {
    kind: "follow",
    version: 7,
  });
  assert.deepEqual(adviceOnAcknowledgement(ack({ recommendedAction: RecommendedAction.SYNC })), {
    kind: "sync",
  });
  assert.deepEqual(
    adviceOnAcknowledgement(ack({ recommendedAction: RecommendedAction.REDUCE_FREQUENCY })),
    { kind: "slower" },
  );
  assert.deepEqual(adviceOnAcknowledgement(ack({ success: false, message: "unknown session" })), {
    kind: "end",
    end: { kind: "reconnect", reason: "unknown session" },
  });
  assert.deepEqual(
    adviceOnAcknowledgement(ack({ recommendedAction: RecommendedAction.RECONNECT })),
    {
      kind: "end",
      end: { kind: "reconnect", reason: "the hub asked to reconnect" },
    },
  );
  assert.deepEqual(
    adviceOnAcknowledgement(
      ack({ recommendedAction: RecommendedAction.FAILOVER, message: "draining" }),
    ),
    {
      kind: "end",
      end: {
        kind: "failover",
        reason: "the hub recommended a failover (draining)",
        disconnect: DisconnectReason.FAILOVER,
      },
    },
  );
});

Deno.test("missed beats end the session at the threshold, or at once when the hub's connection is gone", () => {
  const timeout = new AppError("deadline_exceeded", "no answer within 1 s");
  const refused = new AppError("unavailable", "connect ECONNREFUSED");
  assert.equal(adviceOnMiss(timeout, { misses: 1, maxMissed: 2, subscribed: true }), undefined);
  assert.deepEqual(adviceOnMiss(timeout, { misses: 2, maxMissed: 2, subscribed: true }), {
    kind: "failover",
    reason: "2 heartbeats missed in a row (last: no answer within 1 s)",
    disconnect: DisconnectReason.HEARTBEAT_TIMEOUT,
  });
  assert.equal(
    adviceOnMiss(refused, { misses: 1, maxMissed: 2, subscribed: true }),
    undefined,
    "a stream still open: one refused beat is a miss",
  );
  assert.deepEqual(adviceOnMiss(refused, { misses: 1, maxMissed: 2, subscribed: false }), {
    kind: "failover",
    reason: "the connection to the hub was lost (connect ECONNREFUSED)",
    disconnect: DisconnectReason.ERROR,
    sameHubFirst: true,
  });
});

Deno.test("the failover log counts every failover, keeps the last ten, and fills in where each landed", () => {
  const log = new FailoverLog();
  for (let i = 0; i < RECENT_FAILOVERS + 2; i++) log.left(`n${i}:1`, `reason ${i}`, i);
  log.landed("n1:1");
  log.landed("n2:1");
  assert.equal(log.count, RECENT_FAILOVERS + 2);
  const recent = log.recent();
  assert.equal(recent.length, RECENT_FAILOVERS);
  assert.deepEqual(recent.at(-1), { from: "n11:1", to: "n1:1", reason: "reason 11", at: 11 });
  assert.equal(recent[0]!.from, "n2:1");
});
