import { chromium, type Browser } from 'playwright-core';

/** Where .ci/run installs Debian's chromium; CHROMIUM_PATH points elsewhere on other machines. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Headless Chromium as these tests run it: no sandbox (CI runs as root), and none of the background
 * connections (updates, sync, safe browsing) that a machine without internet refuses by the dozen.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}
