// The browser tests: Debian's Chromium (installed by .ci/run; no browser is downloaded),
// driven by Playwright against the real ferry-server and the real `ferry` CLI.

import { defineConfig } from "@playwright/test";

export default defineConfig({
  testDir: "e2e",
  testMatch: "*.pw.ts",
  outputDir: "test-results/output",
  fullyParallel: false,
  workers: 1,
  timeout: 240_000,
  expect: { timeout: 30_000 },
  reporter: [["list"]],
  use: {
    headless: true,
    actionTimeout: 30_000,
    navigationTimeout: 30_000,
    locale: "en-GB",
    timezoneId: "Europe/London",
    launchOptions: {
      executablePath: process.env.FERRY_CHROMIUM ?? "/usr/bin/chromium",
      // As root in CI there is no sandbox; the other flags keep Chromium off the network.
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
});
