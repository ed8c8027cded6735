// The browser tests: Debian's Chromium (installed by .ci/run; no browser is downloaded),
// driven by Playwright against the real ferry-server and the real `ferry` CLI.

import { existsSync } from "node:fs";

import { defineConfig } from "@playwright/test";

const chromium = process.env.FERRY_CHROMIUM ?? "/usr/bin/chromium";
if (!existsSync(chromium)) {
  throw new Error(
    `The browser tests need Chromium at ${chromium}: install Debian's chromium package ` +
      "(apt-get install chromium; .ci/run does) or set FERRY_CHROMIUM to a Chromium binary.",
  );
}

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
      executablePath: chromium,
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
