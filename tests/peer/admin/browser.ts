/**
 * Headless Chromium for the admin page's browser tests, through
 * `playwright-core` (no browser download: Debian's `/usr/bin/chromium`). The
 * flags keep Chromium from reaching out on its own (updates, sync, field
 * trials), which this closed network refuses; each browser gets a fresh
 * profile in a temporary directory, removed with it.
 *
 * @module
 */
import { type BrowserContext, chromium } from "playwright-core";

/** Where Debian installs Chromium (`apt-get install chromium`; `.ci/run` does). */
export const CHROMIUM_PATH = "/usr/bin/chromium";

/** Why the browser tests cannot run here, or undefined when they can. */
export function browserMissing(): string | undefined {
  try {
    if (Deno.statSync(CHROMIUM_PATH).isFile) return undefined;
  } catch { /* missing */ }
  return `${CHROMIUM_PATH} is missing (install it with: apt-get install -y chromium)`;
}

/** Chromium's flags: headless, and no background traffic of its own. */
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** A browser with a fresh profile; disposing it closes it and removes the profile. */
export interface TestBrowser extends AsyncDisposable {
  /** The browser's one context (its profile). */
  context: BrowserContext;
}

/** Launches Chromium with a fresh profile and a laptop-sized viewport. */
export async function launchBrowser(): Promise<TestBrowser> {
  const profile = await Deno.makeTempDir({ prefix: "admin-page-chromium-" });
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1200, height: 800 },
      timeout: 20_000,
    });
  } catch (error) {
    await Deno.remove(profile, { recursive: true }).catch(() => {});
    throw error;
  }
  return {
    context,
    async [Symbol.asyncDispose]() {
      await context.close();
      await Deno.remove(profile, { recursive: true }).catch(() => {});
    },
  };
}
