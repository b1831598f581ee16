/**
 * Headless Chromium for browser tests: Debian's chromium driven by playwright-core (no browser
 * download). Flags from the machine notes: no sandbox as root, and no background networking, whose
 * connections this closed network refuses. Without a browser the tests are skipped, except in CI,
 * where `.ci/run` installs it and a missing browser is a failure.
 */
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

export const CHROMIUM_PATH = process.env.BUILDSTATE_CHROMIUM ?? '/usr/bin/chromium';
export const HAVE_CHROMIUM = existsSync(CHROMIUM_PATH);

if (!HAVE_CHROMIUM && process.env.CI === 'true')
  throw new Error(`CI needs Chromium at ${CHROMIUM_PATH} (apt-get install chromium; .ci/run does it)`);

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
