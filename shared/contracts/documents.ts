/**
 * A blueprint document as HTTP answers show it: its UTF-8 JSON parsed, or
 * its text when it is not JSON (an entry from elsewhere may not be).
 *
 * @module
 */

const decoder = new TextDecoder();

/** The document's JSON value, or its text when it does not parse. */
export function documentJson(document: Uint8Array): unknown {
  const text = decoder.decode(document);
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
