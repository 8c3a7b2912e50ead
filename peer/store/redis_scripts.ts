/**
 * The Lua scripts of the Redis advertisement store: writing values with
 * their leases, moving leases only, and reading leases.
 *
 * @module
 */
import type { Redis } from "ioredis";
import { putArgs, type SetPlan } from "./redis_batch_plan.ts";
import { runScript } from "./redis_connection.ts";
import type { BoundedSender } from "./redis_sender.ts";

// KEYS: advertisement keys. ARGV[1]: "NX" to write only keys that do not exist, "" otherwise;
// ARGV[2i], ARGV[2i+1]: the value and the TTL (ms) of KEYS[i]. Returns the number of keys written.
const PUT_SCRIPT = `
local nx = ARGV[1] == 'NX'
local written = 0
for i, key in ipairs(KEYS) do
  local ok
  if nx then
    ok = redis.call('SET', key, ARGV[2 * i], 'PX', ARGV[2 * i + 1], 'NX')
  else
    ok = redis.call('SET', key, ARGV[2 * i], 'PX', ARGV[2 * i + 1])
  end
  if ok then written = written + 1 end
end
return written
`;

// ARGV[1]: advertisement keys joined by newlines (keys never hold one); ARGV[2]: their new TTL
// (ms). Only moves expiries, never writes a value. Returns the 1-based positions of the keys that
// do not exist. The keys travel as one argument rather than as KEYS: encoding ten thousand
// arguments costs the client more than the whole refresh costs Redis (standalone Redis only,
// like the other multi-key scripts here).
const REFRESH_SCRIPT = `
local missing = {}
local ttl = ARGV[2]
local i = 0
for key in string.gmatch(ARGV[1], '[^\\n]+') do
  i = i + 1
  if redis.call('PEXPIRE', key, ttl) == 0 then missing[#missing + 1] = i end
end
return missing
`;

// KEYS: keys. Returns the PTTL of each (values come with a plain MGET: cheaper than from Lua).
const PTTL_SCRIPT = `
local out = {}
for i, key in ipairs(KEYS) do out[i] = redis.call('PTTL', key) end
return out
`;

/** The put script's name on the client. */
export const PUT_COMMAND = "peerAdvertPut";
/** The refresh script's name on the client. */
export const REFRESH_COMMAND = "peerAdvertRefresh";
/** The PTTL script's name on the client. */
export const PTTL_COMMAND = "peerAdvertPttl";

/** Defines the store's scripts on a client (once, at open). */
export function defineStoreCommands(client: Redis): void {
  client.defineCommand(PUT_COMMAND, { lua: PUT_SCRIPT });
  client.defineCommand(REFRESH_COMMAND, { lua: REFRESH_SCRIPT });
  client.defineCommand(PTTL_COMMAND, { lua: PTTL_SCRIPT });
}

/** What {@link sendPuts} sends. */
export interface PutChunk {
  /** The client the scripts are defined on. */
  client: Redis;
  /** The keys to write, with their values and lease ends. */
  chunk: readonly SetPlan[];
  /** `NX` to write only keys that do not exist, `""` to write them all. */
  mode: "" | "NX";
}

/** Sends one chunk of the put script through `sender`; resolves, once sent, with its reply. */
export async function sendPuts(
  sender: BoundedSender,
  { client, chunk, mode }: PutChunk,
): Promise<{ reply: Promise<unknown> }> {
  const keys = chunk.map((set) => set.key);
  const args = putArgs(chunk, mode, Date.now());
  let bytes = 0;
  for (const arg of args) bytes += typeof arg === "string" ? arg.length : 8;
  return await sender.send(bytes, () => runScript(client, PUT_COMMAND, { keys, args }));
}
