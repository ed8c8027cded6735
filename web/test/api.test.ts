// The page's API types (src/api.d.ts) are what openapi-typescript makes of openapi.json,
// which the server's own test keeps equal to the document it serves.

import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

import { expect, it } from "vitest";

const web = fileURLToPath(new URL("..", import.meta.url));

it("src/api.d.ts is current: run `npm run api` after changing the API", () => {
  const cli = fileURLToPath(new URL("../node_modules/openapi-typescript/bin/cli.js", import.meta.url));
  const made = execFileSync(process.execPath, [cli, "openapi.json"], { cwd: web, encoding: "utf8" });
  const committed = readFileSync(new URL("../src/api.d.ts", import.meta.url), "utf8");
  expect(committed).toBe(made);
}, 60_000);
