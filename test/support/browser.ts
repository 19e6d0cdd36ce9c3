/**
 * A real browser for tests: the Debian `chromium` package (installed by scripts/deps.sh), driven
 * headless through playwright-core. Playwright never downloads a browser of its own here.
 * A missing chromium fails the test that needs it; it is never skipped.
 */
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';

/** Headless, and nothing in the background that could reach the network or slow the start. */
export const CHROMIUM_ARGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** The `chromium` executable on PATH, or undefined. */
export function findChromium(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, 'chromium');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * Starts headless chromium. Playwright gives it a fresh temporary profile; its home (where
 * chromium keeps crash reports and its NSS database whatever the profile) is a temporary
 * directory too, so nothing is written to the user's. Both go when the browser does: the
 * caller must `browser.close()` (in `after()`), which also leaves no process behind.
 */
export async function launchChromium(): Promise<Browser> {
  const executablePath = findChromium();
  if (!executablePath) {
    throw new Error('chromium is not installed (no `chromium` on PATH): run `bash scripts/deps.sh` to install it');
  }
  const home = mkdtempSync(join(tmpdir(), 'sluice-chromium-'));
  const removeHome = () => rmSync(home, { recursive: true, force: true });
  try {
    const browser = await chromium.launch({
      executablePath,
      headless: true,
      args: [...CHROMIUM_ARGS],
      env: { ...process.env, HOME: home, XDG_CONFIG_HOME: join(home, '.config'), XDG_CACHE_HOME: join(home, '.cache') },
      timeout: 30_000,
    });
    browser.once('disconnected', removeHome);
    return browser;
  } catch (err) {
    removeHome();
    throw new Error(`could not start ${executablePath} (run \`bash scripts/deps.sh\` to (re)install it): ${(err as Error).message}`);
  }
}
