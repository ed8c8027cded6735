// The page's benchmark: sealing a 50 MiB attachment in headless Chromium against the CLI's
// sealing of the same file, as a ratio. Run with `npm run --prefix web bench` after
// `cargo build --release -p ferry-tests --bin ferry-bench`.

import { defineConfig } from "@playwright/test";

import browserTests from "../playwright.config.ts";

export default defineConfig({
  ...browserTests,
  testDir: ".",
  testMatch: "*.bench.ts",
  timeout: 600_000,
  reporter: [["list"]],
});
