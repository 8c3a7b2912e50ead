/**
 * A full sync is all or nothing across a crash: the peer killed with SIGKILL
 * at many moments of a 10,000-item full sync serves, once restarted, all of
 * the old set or all of the new one, with the full-sync record to match, on
 * Redis and on the embedded store.
 */
import { getLogger } from "@logtape/logtape";
import { openRedisConnection } from "../../peer/store/redis_connection.ts";
import { startRedis } from "../fixtures/redis_server.ts";
import { tempDir } from "../fixtures/wait.ts";
import { assertFullSyncCrashAtomicity } from "./full_sync_crash_harness.ts";

Deno.test("a peer on Redis killed at any moment of a full sync keeps the old set or the new one whole, with its record", async () => {
  await using redis = await startRedis();
  await using data = await tempDir("peer-crash-");
  // One connection polled as fast as Redis answers (not one per poll, thousands per push).
  const probe = openRedisConnection(redis.url, {
    logger: getLogger(["sorcha", "test", "probe"]),
    connectionName: "crash-test-probe",
  });
  try {
    await probe.ready(5_000);
    const tally = await assertFullSyncCrashAtomicity({
      env: { REDIS_URL: redis.url, DATA_DIR: data.path, LOG_LEVEL: "warning" },
      rounds: 8,
      storeInputBytes: async () => {
        const info = await probe.client.info("stats");
        return Number(info.match(/^total_net_input_bytes:(\d+)/m)?.[1]);
      },
    });
    console.log(`killed pushes: ${tally.old} lost whole, ${tally.new} taken whole`);
  } finally {
    await probe.close();
  }
});

Deno.test("a peer on the embedded store killed at any moment of a full sync keeps the old set or the new one whole, with its record", async () => {
  await using data = await tempDir("peer-crash-");
  const tally = await assertFullSyncCrashAtomicity({
    env: { DATA_DIR: data.path, LOG_LEVEL: "warning" },
  });
  console.log(`killed pushes: ${tally.old} lost whole, ${tally.new} taken whole`);
});
