// Sealing a 50 MiB attachment: the page in headless Chromium (a file chosen in its file
// input, sealed as "Add files" seals it) against the CLI's sealing of the same file
// (`ferry-bench --seal-file`, the code `ferry write --attach` runs), best of three each.

import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

import { expect, test } from "@playwright/test";
import { createServer } from "vite";

const SIZE = 50 * 1024 * 1024;
const bench = fileURLToPath(new URL("../../target/release/ferry-bench", import.meta.url));

test("sealing 50 MiB: the page against the CLI", async ({ page }) => {
  const file = join(tmpdir(), `ferry-seal-${process.pid}.bin`);
  writeFileSync(file, randomBytes(SIZE));
  const vite = await createServer({
    root: fileURLToPath(new URL("..", import.meta.url)),
    logLevel: "silent",
    server: { port: 0 },
  });
  try {
    const cli = execFileSync(bench, ["--seal-file", file], { encoding: "utf8" });
    const cliSeconds = Number(/in ([\d.]+) s/.exec(cli)?.[1]);
    await vite.listen();
    const address = vite.resolvedUrls?.local[0] ?? "";
    await page.goto(`${address}bench/seal.html`);
    await page.locator("#file").setInputFiles(file);
    let browserSeconds = Infinity;
    for (let i = 0; i < 3; i++) {
      await page.evaluate(() => ((document.getElementById("result") as HTMLOutputElement).value = ""));
      await page.locator("#seal").click();
      await expect(page.locator("#result")).not.toHaveText("", { timeout: 300_000 });
      const [ms] = ((await page.locator("#result").textContent()) ?? "").split(" ");
      browserSeconds = Math.min(browserSeconds, Number(ms) / 1000);
    }
    const mib = SIZE / 1024 / 1024;
    console.log(`sealing ${mib} MiB, best of three:`);
    console.log(
      `  the CLI (ferry-crypto, release build)   ${cliSeconds.toFixed(3)} s  ${(mib / cliSeconds).toFixed(1)} MiB/s`,
    );
    console.log(
      `  the page in headless Chromium          ${browserSeconds.toFixed(3)} s  ${(mib / browserSeconds).toFixed(1)} MiB/s`,
    );
    console.log(`  ratio (page speed / CLI speed)          ${(cliSeconds / browserSeconds).toFixed(2)}`);
  } finally {
    await vite.close();
    rmSync(file, { force: true });
  }
});
