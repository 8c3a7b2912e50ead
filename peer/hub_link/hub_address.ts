/**
 * Hub addresses as `HUB_NODES` lists them: `host:port`, comma-separated, in
 * priority order. A host is a name (`n0.sorcha.dev`), an IPv4 address, or
 * an IPv6 address in brackets (`[::1]:50051`).
 *
 * @module
 */

/** One hub of the list. */
export interface HubAddress {
  /** `host:port`, as grpc-js takes it. */
  address: string;
  /** The host, without brackets. */
  host: string;
  /** The port. */
  port: number;
  /** Its place in the list: 0 is tried first. */
  priority: number;
}

const HOST_NAME =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)$/;
const IPV6 = /^[0-9A-Fa-f:.]{2,45}$/;

/** Whether `host` is an IP address (a certificate then needs `HUB_TLS_SERVER_NAME`). */
export function isIpAddress(host: string): boolean {
  return IPV4.test(host) || (host.includes(":") && IPV6.test(host));
}

/** What is wrong with one `host:port` entry, or undefined when it is fine. */
function problemOf(entry: string): string | undefined {
  const match = /^(?:\[([^\]]+)\]|([^:\[\]]+)):(\d{1,5})$/.exec(entry);
  if (!match) return "is not host:port";
  const [, v6, host, port] = match;
  if (v6 !== undefined && !(v6.includes(":") && IPV6.test(v6))) return "has a bad IPv6 address";
  if (host !== undefined && !HOST_NAME.test(host) && !IPV4.test(host)) return "has a bad host name";
  const number = Number(port);
  if (number < 1 || number > 65535) return "has a port outside 1-65535";
  return undefined;
}

/**
 * Parses a `HUB_NODES` value. Throws an Error whose message says which entry
 * is wrong and how (the configuration turns it into its one-line error).
 */
export function parseHubList(value: string): HubAddress[] {
  const entries = value.split(",").map((part) => part.trim()).filter((part) => part !== "");
  const hubs: HubAddress[] = [];
  const seen = new Set<string>();
  for (const entry of entries) {
    const problem = problemOf(entry);
    if (problem) {
      throw new Error(
        `${
          JSON.stringify(entry)
        } ${problem} (expected comma-separated host:port entries such as n0.example.org:50051)`,
      );
    }
    const lowered = entry.toLowerCase();
    if (seen.has(lowered)) throw new Error(`${JSON.stringify(entry)} is listed twice`);
    seen.add(lowered);
    const colon = entry.lastIndexOf(":");
    const host = entry.slice(0, colon).replace(/^\[|\]$/g, "");
    hubs.push({
      address: entry,
      host,
      port: Number(entry.slice(colon + 1)),
      priority: hubs.length,
    });
  }
  return hubs;
}
