/**
 * MongoDB connection URLs, shared by the services' MongoDB stores: the
 * database a URL names, and keeping its user name and password out of every
 * message.
 *
 * @module
 */

/** The scheme, user info, hosts and path of a MongoDB URL: `mongodb(+srv)://[user@]hosts[/path]`. */
const URL_PARTS = /^([a-z][a-z0-9+.-]*:\/\/)(?:([^@/?#]*)@)?([^/?#]*)(\/[^?#]*)?/i;

/** The database a MongoDB URL names in its path, if any. */
export function databaseFromUrl(url: string): string | undefined {
  const path = URL_PARTS.exec(url)?.[4];
  if (!path || path === "/") return undefined;
  try {
    return decodeURIComponent(path.slice(1));
  } catch {
    return path.slice(1);
  }
}

/** `url` without its user name and password (`mongodb://user:pw@host/db` → `mongodb://host/db`). */
export function redactUrl(url: string): string {
  const match = URL_PARTS.exec(url);
  if (!match) return "the configured URL";
  const [whole, scheme, userInfo, hosts, path] = match;
  if (userInfo === undefined) return whole;
  return `${scheme}${hosts}${path ?? ""}`;
}

/** The user info of `url` and its password, raw and decoded: what a message must never show. */
export function urlSecrets(url: string): string[] {
  const userInfo = URL_PARTS.exec(url)?.[2];
  if (!userInfo) return [];
  const secrets = new Set([userInfo]);
  const colon = userInfo.indexOf(":");
  if (colon >= 0) {
    const password = userInfo.slice(colon + 1);
    if (password) {
      secrets.add(password);
      try {
        secrets.add(decodeURIComponent(password));
      } catch {
        // An undecodable password is only ever shown raw.
      }
    }
  }
  return [...secrets].filter((secret) => secret.length > 0).sort((a, b) => b.length - a.length);
}

/** `text` with every secret (see {@link urlSecrets}) and every `scheme://user:password@` replaced. */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let out = text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^@/\s]*@/gi, "$1");
  for (const secret of secrets) out = out.replaceAll(secret, "***");
  return out;
}
