// The admin page's small DOM and formatting helpers (plain JavaScript, no build step).

/**
 * Creates an element: `attrs` sets attributes (`class`, `aria-*`, `data-*`, …) or, for `on*`
 * functions, event listeners; children are nodes or text (null and false are skipped).
 */
export function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      element.addEventListener(name.slice(2).toLowerCase(), value);
    } else if (value === true) element.setAttribute(name, "");
    else element.setAttribute(name, String(value));
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
}

/** Replaces an element's children. */
export function fill(element, ...children) {
  element.replaceChildren();
  append(element, children);
}

/** A time as "12 s ago" or "in 4 min", with the exact time as a tooltip; "—" for none. */
export function when(iso, now = Date.now()) {
  if (!iso) return h("span", { class: "muted", title: "never" }, "—");
  const at = Date.parse(iso);
  return h("time", { datetime: iso, title: new Date(at).toLocaleString() }, relative(at - now));
}

/** A duration from now in words: negative is past. */
export function relative(deltaMs) {
  const seconds = Math.round(Math.abs(deltaMs) / 1000);
  let text;
  if (seconds < 1) return "now";
  if (seconds < 90) text = `${seconds} s`;
  else if (seconds < 90 * 60) text = `${Math.round(seconds / 60)} min`;
  else if (seconds < 36 * 3600) text = `${Math.round(seconds / 3600)} h`;
  else text = `${Math.round(seconds / 86400)} d`;
  return deltaMs < 0 ? `${text} ago` : `in ${text}`;
}

/** An id or digest shortened in its middle for a table (`keep` characters), whole in its tooltip. */
export function shortId(id, keep = 12) {
  if (id.length <= keep + 1) return h("code", {}, id);
  const head = Math.ceil(keep / 2);
  return h("code", { title: id }, `${id.slice(0, head)}…${id.slice(id.length - (keep - head))}`);
}

/** A badge for a state: `tone` is ok, warn, bad or muted. */
export function badge(text, tone = "muted") {
  return h("span", { class: `badge ${tone}` }, text);
}

/** A definition list from [term, value] pairs (pairs with an undefined value are skipped). */
export function facts(pairs) {
  return h(
    "dl",
    { class: "facts" },
    pairs.filter(([, value]) => value !== undefined).flatMap(([term, value]) => [
      h("dt", {}, term),
      h("dd", {}, value ?? h("span", { class: "muted" }, "—")),
    ]),
  );
}

/** A message standing in for an empty table or a failure. */
export function note(text, tone = "muted") {
  return h("p", { class: `note ${tone}` }, text);
}

/** A table: `columns` are header labels, `rows` arrays of cells; `caption` names it for screen readers. */
export function table(columns, rows, { caption }) {
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      {},
      h("caption", { class: "visually-hidden" }, caption),
      h("thead", {}, h("tr", {}, columns.map((column) => h("th", { scope: "col" }, column)))),
      h("tbody", {}, rows.map((cells) => h("tr", {}, cells.map((cell) => h("td", {}, cell))))),
    ),
  );
}
