/**
 * Quoting what a client sent in an error message, cut to a readable length:
 * a 60 KB id must not make a 60 KB error (nor a 60 KB log line). What is cut
 * ends with `…` and says how long the original was.
 *
 * @module
 */

/** Most characters of one input an error message quotes. */
export const QUOTE_LIMIT = 100;

/** `value` cut to `limit` characters, never inside a surrogate pair. */
function cut(value: string, limit: number): string {
  let end = limit;
  const last = value.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return value.slice(0, end);
}

/**
 * `value` as it is when it has at most `limit` characters, otherwise its
 * first `limit` characters, `…` and its length: `/api/aaaa… (60000 characters)`.
 * For text shown unquoted (a request path).
 */
export function shortenInput(value: string, limit: number = QUOTE_LIMIT): string {
  if (value.length <= limit) return value;
  return `${cut(value, limit)}… (${value.length} characters)`;
}

/**
 * `value` as a JSON string (quotes, escapes) when it has at most `limit`
 * characters, otherwise its first `limit` characters and `…`, quoted, then its
 * length: `"aaaa…" (60000 characters)`. A value that is not a string is
 * quoted as its `String()`.
 */
export function quoteInput(value: unknown, limit: number = QUOTE_LIMIT): string {
  const text = typeof value === "string" ? value : String(value);
  if (text.length <= limit) return JSON.stringify(text);
  return `${JSON.stringify(`${cut(text, limit)}…`)} (${text.length} characters)`;
}
