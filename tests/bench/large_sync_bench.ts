/**
 * Reconciliation at scale (issue 16): a register service holding 1,000,000
 * advertised registers (SQLite) and a peer on Redis, each a process of its
 * own. The startup push sends them in parts of 50,000, which the peer applies
 * as one full sync at the last part; then a reconciliation with nothing
 * changed, then one with one register changed. Each is timed by the register
 * service's own status (`lastDurationMs`: reading its store to the peer's
 * answer to the last part); the peak resident memory of both processes
 * (`VmHWM` in `/proc/<pid>/status`) is read at the end.
 *
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import { openSqliteRegisterStore } from "../../register/store/sqlite_store.ts";
import { startRedis } from "../fixtures/redis_server.ts";
import { type BenchService, spawnService } from "./bench_service.ts";
import { type Figure, report } from "./report.ts";

/** Registers the figure is about. */
export const LARGE_SYNC_COUNT = 1_000_000;

/** A SQLite register database at `path` holding `count` advertised registers, written at once. */
function fillRegisters(path: string, count: number): void {
  // The store creates its schema; the rows go in one transaction (a million inserts of the
  // store's own, each a transaction, would take minutes).
  openSqliteRegisterStore(path).close();
  const db = new DatabaseSync(path);
  try {
    const at = new Date(Date.UTC(2026, 0, 1)).toISOString();
    const insert = db.prepare(
      `INSERT INTO registers (id, name, advertise, is_public, latest_version,
         latest_docket_version, created_at, updated_at) VALUES (?, ?, 1, ?, ?, ?, ?, ?)`,
    );
    db.exec("BEGIN");
    for (let n = 1; n <= count; n++) {
      const id = n.toString(16).padStart(32, "0");
      insert.run(id, `register ${n}`, n % 10 === 0 ? 0 : 1, n, n % 7, at, at);
    }
    db.exec("COMMIT");
  } finally {
    db.close();
  }
}

/** Gives register 5 a new version directly in the database. */
function changeBehindTheService(path: string): void {
  const db = new DatabaseSync(path);
  try {
    db.prepare("UPDATE registers SET latest_version = latest_version + 1 WHERE id = ?")
      .run((5).toString(16).padStart(32, "0"));
  } finally {
    db.close();
  }
}

/** Peak resident memory of a process, in MiB (`VmHWM`). */
async function peakRssMiB(service: BenchService): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${service.pid}/status`);
  const kib = Number(status.match(/^VmHWM:\s+(\d+) kB/m)?.[1]);
  return Math.round(kib / 1024);
}

/** The register service's reconciliation status. */
interface Status {
  lastStatus: string;
  lastDurationMs: number | null;
  lastError: string | null;
  registerCount: number | null;
  lastResult: { added: number; updated: number; removed: number; unchanged: number } | null;
}

async function statusOf(register: BenchService): Promise<Status> {
  return await (await fetch(`${register.url}/api/resync/status`)).json();
}

/** Runs a manual reconciliation; its status once done. */
async function resync(register: BenchService): Promise<Status> {
  const res = await fetch(`${register.url}/api/resync`, { method: "POST" });
  const body = await res.json();
  if (!res.ok) throw new Error(`resync answered ${res.status}: ${JSON.stringify(body)}`);
  return body;
}

/** Polls until the startup push has ended (the register's own progress, not a timer). */
async function startupPush(register: BenchService): Promise<Status> {
  for (;;) {
    const status = await statusOf(register);
    if (status.lastStatus !== "never") return status;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function seconds(status: Status): string {
  return `${((status.lastDurationMs ?? 0) / 1000).toFixed(1)} s`;
}

/** The figures of reconciling `count` registers (default 1,000,000). */
export async function largeSyncFigures(count = LARGE_SYNC_COUNT): Promise<Figure[]> {
  const label = count.toLocaleString("en");
  const dir = await Deno.makeTempDir({ prefix: "large-sync-bench-" });
  try {
    const filling = performance.now();
    fillRegisters(`${dir}/registers.db`, count);
    console.log(
      `  (${label} registers written in ${((performance.now() - filling) / 1000).toFixed(1)} s)`,
    );
    await using redis = await startRedis();
    await using peer = await spawnService("peer/main.ts", {
      env: { REDIS_URL: redis.url, DATA_DIR: `${dir}/peer` },
    });
    await using register = await spawnService("register/main.ts", {
      env: {
        DATA_DIR: dir,
        PEER_URL: peer.url,
        RESYNC_INTERVAL_SECONDS: "3600",
      },
    });
    const first = await startupPush(register);
    if (first.lastStatus !== "succeeded" || first.lastResult?.added !== count) {
      throw new Error(`the startup push of ${label} registers failed: ${JSON.stringify(first)}`);
    }
    const state = await (await fetch(`${peer.url}/api/registers/sync-state`)).json();
    const keys = Number(await redis.command("DBSIZE"));
    const unchanged = await resync(register);
    // Changed behind the service's back (an API change would reach the peer at once): the
    // reconciliation finds and repairs it.
    changeBehindTheService(`${dir}/registers.db`);
    const changed = await resync(register);
    const peerRss = await peakRssMiB(peer);
    const registerRss = await peakRssMiB(register);
    const reconciled = state.localCount === count && keys === count + 1 &&
      unchanged.lastResult?.unchanged === count && changed.lastResult?.updated === 1;
    const redisMemory = String(await redis.command("INFO", "memory"))
      .match(/^used_memory_peak_human:(\S+)/m)?.[1];
    return [
      report({
        name: `${label} registers reconciled with a peer on Redis (startup push in ${
          Math.ceil(count / 50_000)
        } parts, then unchanged, then one register changed)`,
        value: `startup push ${seconds(first)}, unchanged ${seconds(unchanged)}, one changed ${
          seconds(changed)
        }; peer ${state.localCount} local, Redis ${keys} keys`,
        target: `every register on the peer`,
        met: reconciled,
      }),
      report({
        name: `peak resident memory reconciling ${label} registers`,
        value: `peer ${peerRss} MiB, register service ${registerRss} MiB (Redis peak ${
          redisMemory ?? "?"
        })`,
        target: "none (information)",
        met: undefined,
      }),
    ];
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) await largeSyncFigures(Number(Deno.args[0] ?? LARGE_SYNC_COUNT));
