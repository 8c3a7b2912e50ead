/**
 * The admin page end to end, in headless Chromium, against a real peer
 * process linked to a real hub process: it lists the registers advertised
 * through the API and shows a new one without a reload; it filters and
 * sorts; its System Register tab lists the replica and shows a document; it
 * shows the isolated banner when the only hub is killed and clears it when
 * the hub is back; everything it needs comes from the peer (any other
 * request is aborted and recorded: there must be none); and the peer stops
 * at once on SIGTERM with the page still open. Screenshots of each tab go
 * to a temporary folder, whose paths are printed. A second test: on a peer
 * with `API_TOKEN`, "Trigger sync" asks for the token and syncs only with it.
 *
 * Ignored, saying why, when Chromium is not installed (`.ci/run` installs it).
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { tempDir } from "../../fixtures/wait.ts";
import { publish, requestJson } from "../hub_link/link_http.ts";
import {
  hubProcess,
  peerProcess,
  type ServiceProcess,
  withLogs,
} from "../hub_link/process_fixture.ts";
import { rid } from "../helpers.ts";
import { browserMissing, launchBrowser } from "./browser.ts";

const missing = browserMissing();
if (missing) console.warn(`The admin page's browser tests are ignored: ${missing}`);

/** Advertises `ids` on `peer` (public, version 1 to n), through the API as operators do. */
async function advertise(peer: ServiceProcess, ids: readonly string[]): Promise<void> {
  for (const [index, registerId] of ids.entries()) {
    const answer = await requestJson(`${peer.url}/api/registers/${registerId}/advertise`, {
      method: "POST",
      body: { isPublic: true, latestVersion: index + 1 },
    });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
  }
}

/** The register ids the page's table shows, in its order. */
async function shownIds(page: Page): Promise<(string | null)[]> {
  const rows = await page.locator("#registers-body tr").all();
  return await Promise.all(rows.map((row) => row.getAttribute("data-register")));
}

Deno.test({
  name:
    "the admin page shows the live network, offline, and clears the isolated banner when the hub returns",
  ignore: missing !== undefined,
  fn: withLogs(async (watch) => {
    const started = Date.now();
    await using hubData = await tempDir("admin-page-hub-");
    await using peerData = await tempDir("admin-page-peer-");
    const screens = await Deno.makeTempDir({ prefix: "admin-page-screenshots-" });
    await using hub = watch(hubProcess({ hubId: "n0", dataDir: hubData.path }));
    await hub.start();
    await publish(hub, "land-transfer-v1", { title: "Land transfer", steps: ["offer", "accept"] });
    await using peer = watch(
      peerProcess({ peerId: "admin-peer", dataDir: peerData.path, hubs: [hub.grpcAddress] }),
    );
    await peer.start();
    await advertise(peer, [rid(0xa1), rid(0xb2)]);

    await using browser = await launchBrowser();
    const foreign: string[] = [];
    await browser.context.route("**/*", (route) => {
      const url = new URL(route.request().url());
      if (url.origin === peer.url) return route.continue();
      foreign.push(url.href);
      return route.abort("internetdisconnected");
    });
    const page = await browser.context.newPage();
    const problems: string[] = [];
    page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
    page.on("console", (message) => {
      if (message.type() === "error") problems.push(`console: ${message.text()}`);
    });
    const shots: string[] = [];
    const shoot = async (name: string) => {
      const path = `${screens}/${name}.png`;
      await page.screenshot({ path, fullPage: true });
      shots.push(path);
    };
    const row = (id: string) => page.locator(`#registers-body tr[data-register="${id}"]`);

    // The registers advertised through the API, listed.
    await page.goto(`${peer.url}/`);
    await row(rid(0xa1)).waitFor({ timeout: 5_000 });
    await row(rid(0xb2)).waitFor({ timeout: 5_000 });
    await page.locator("#live", { hasText: "Live" }).waitFor({ timeout: 5_000 });
    assert.match(await page.locator("#node").innerText(), /admin-peer/);

    // A register advertised now appears without a reload.
    const advertisedAt = Date.now();
    await advertise(peer, [rid(0xc3)]);
    await row(rid(0xc3)).waitFor({ timeout: 2_000 });
    const liveMs = Date.now() - advertisedAt;
    assert.deepEqual(await shownIds(page), [rid(0xa1), rid(0xb2), rid(0xc3)]);
    await shoot("1-available-registers");

    // Sorted by version, descending on the second press; filtered by id.
    await page.getByRole("button", { name: "Version" }).click();
    await page.getByRole("button", { name: "Version" }).click();
    assert.equal(
      await page.locator('th[data-sort="latestVersion"]').getAttribute("aria-sort"),
      "descending",
    );
    // Versions: b2 is at 2, a1 and c3 at 1 (ties in id order, reversed too).
    assert.deepEqual(await shownIds(page), [rid(0xb2), rid(0xc3), rid(0xa1)]);
    await page.locator("#filter").fill("b2");
    assert.deepEqual(await shownIds(page), [rid(0xb2)]);
    await page.locator("#filter").fill("no-such-register");
    await page.locator("#registers-empty", { hasText: "No register id contains" }).waitFor();
    await page.locator("#filter").fill("");

    // Keyboard: the arrow keys move between tabs.
    await page.locator("#tab-registers").focus();
    await page.keyboard.press("ArrowRight");
    assert.equal(await page.locator("#tab-peers").getAttribute("aria-selected"), "true");
    await page.locator("#panel-peers", { hasText: "Known peers" }).waitFor();
    await shoot("2-peers");

    await page.locator("#tab-hub").click();
    // The link's state badge itself: a text match is case-insensitive and a substring, so the
    // panel's text would also match "Disconnected", or a hub's "connected".
    const linkConnected = page.locator("#panel-hub .badge", { hasText: /^Connected$/ });
    await linkConnected.waitFor({ timeout: 10_000 });
    assert.equal(await page.locator("#banner").isVisible(), false);
    await shoot("3-hub");

    // The replica, and a blueprint's document on click.
    await page.locator("#tab-system").click();
    const blueprint = page.locator('button[data-blueprint="land-transfer-v1"]');
    await blueprint.waitFor({ timeout: 10_000 });
    await blueprint.click();
    await page.locator("#blueprint pre.json", { hasText: "Land transfer" }).waitFor();
    assert.match(await page.locator("#system-summary").innerText(), /version \d+, \d+ blueprint/);
    // No API_TOKEN on this peer: "Trigger sync" asks for none, and syncs.
    assert.equal(await page.locator("#token").isVisible(), false);
    await page.getByRole("button", { name: "Trigger sync" }).click();
    await page.locator("#sync-result", { hasText: "Synced:" }).waitFor({ timeout: 5_000 });
    await shoot("4-system-register");

    await page.locator("#tab-reconciliation").click();
    await page.locator("#panel-reconciliation", { hasText: "Advertisement store" }).waitFor();
    await shoot("5-reconciliation");

    // The only hub killed: the isolated banner; the hub back: no banner.
    await page.locator("#tab-hub").click();
    hub.signal("SIGKILL");
    await hub.exited();
    await page.locator("#banner", { hasText: "Isolated" }).waitFor({ timeout: 15_000 });
    await shoot("6-hub-isolated");
    await hub.start();
    await page.locator("#banner").waitFor({ state: "hidden", timeout: 20_000 });
    await linkConnected.waitFor({ timeout: 5_000 });

    // Readable on a phone.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.locator("#tab-registers").click();
    await shoot("7-phone-registers");

    assert.deepEqual(foreign, [], "the page asked for nothing but the peer");
    assert.deepEqual(problems, []);

    // The peer stops at once with the page still open (its events stream ends).
    const stopAt = Date.now();
    const status = await peer.stop("SIGTERM", 5_000);
    assert.equal(status.code, 0);
    console.log(
      `admin page: a new register shown after ${liveMs} ms; peer stopped in ${
        Date.now() - stopAt
      } ms with the page open; whole test ${Date.now() - started} ms`,
    );
    console.log(`admin page screenshots:\n${shots.map((path) => `  ${path}`).join("\n")}`);
  }),
});

Deno.test({
  name: "with API_TOKEN set the admin page asks for the token, and syncs only with the right one",
  ignore: missing !== undefined,
  fn: withLogs(async (watch) => {
    const token = "admin-page-test-token";
    await using hubData = await tempDir("admin-token-hub-");
    await using peerData = await tempDir("admin-token-peer-");
    await using hub = watch(hubProcess({ hubId: "n0", dataDir: hubData.path }));
    await hub.start();
    await publish(hub, "token-checked-v1", { title: "Token checked" });
    await using peer = watch(
      peerProcess({
        peerId: "admin-token-peer",
        dataDir: peerData.path,
        hubs: [hub.grpcAddress],
        env: { API_TOKEN: token },
      }),
    );
    await peer.start();

    await using browser = await launchBrowser();
    const page = await browser.context.newPage();
    const problems: string[] = [];
    page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
    await page.goto(`${peer.url}/`);
    await page.locator("#tab-system").click();
    await page.locator('button[data-blueprint="token-checked-v1"]').waitFor({ timeout: 10_000 });
    const field = page.locator("#token");
    await field.waitFor({ state: "visible", timeout: 5_000 });
    const result = page.locator("#sync-result");
    const sync = page.getByRole("button", { name: "Trigger sync" });

    // No token, then a wrong one: refused, with the peer's reason.
    await sync.click();
    await result.filter({ hasText: "Not synced:" }).waitFor({ timeout: 5_000 });
    assert.match(await result.innerText(), /token/i);
    await field.fill("not-the-token");
    await sync.click();
    await result.filter({ hasText: "Not synced:" }).waitFor({ timeout: 5_000 });
    // The right one: synced.
    await field.fill(token);
    await sync.click();
    await result.filter({ hasText: "Synced:" }).waitFor({ timeout: 5_000 });
    assert.deepEqual(problems, []);
  }),
});
