// A newcomer following the README: `ferry demo --serve` keeps its server running and prints
// join links and the facilitator's commands; they join both people from the browser, write a
// question, and act as the facilitator with exactly the printed commands.

import { execFileSync, spawn } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { expect, test } from "@playwright/test";

import { CLI, requireBinaries } from "./harness.ts";
import { Participant } from "./people.ts";

test("ferry demo --serve: a newcomer joins from the printed links", async ({ browser }) => {
  requireBinaries();
  const out = join(tmpdir(), `ferry-demo-${process.pid}.txt`);
  const file = openSync(out, "w");
  const demo = spawn(CLI, ["demo", "--serve"], {
    stdio: ["ignore", file, file],
    env: { ...process.env, NO_COLOR: "1" },
  });
  closeSync(file);
  try {
    let text = "";
    for (let i = 0; i < 1200 && !/Then be Fiona[\s\S]*audit verify --case/.test(text); i++) {
      if (demo.exitCode !== null) throw new Error(`ferry demo --serve stopped:\n${readFileSync(out, "utf8")}`);
      await new Promise((r) => setTimeout(r, 100));
      text = readFileSync(out, "utf8");
    }
    const harmedLink = /the harmed person: +(\S+)/.exec(text)?.[1] ?? "";
    const responsibleLink = /the responsible person: +(\S+)/.exec(text)?.[1] ?? "";
    const home = /export FERRY_HOME='([^']+)' FERRY_PASSPHRASE='([^']+)'/.exec(text);
    const caseId = /verify-key NAME --case (\S+)/.exec(text)?.[1] ?? "";
    expect(harmedLink).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/join#/);
    expect(home).not.toBeNull();
    const fiona = (args: string[]) =>
      execFileSync(CLI, args, {
        encoding: "utf8",
        env: { ...process.env, FERRY_HOME: home?.[1] ?? "", FERRY_PASSPHRASE: home?.[2] ?? "", NO_COLOR: "1" },
      });

    const url = new URL(harmedLink).origin;
    const me = await Participant.open(browser, "Sam");
    const other = await Participant.open(browser, "Alex");
    await me.join({ url }, harmedLink.split("#")[1] ?? "");
    await me.consent();
    await other.join({ url }, responsibleLink.split("#")[1] ?? "");
    await other.consent();
    fiona(["verify-key", "Sam", "--case", caseId, "--yes"]);
    fiona(["verify-key", "Alex", "--case", caseId, "--yes"]);

    await me.visit({ url });
    await me.ask("Why our house?");
    const waiting = JSON.parse(fiona(["--json", "inbox"])) as { review: { message_id: string }[] };
    const id = waiting.review[0]?.message_id ?? "";
    expect(fiona(["review", id, "--redact-detected"])).toContain("Why our house?");
    fiona(["forward", id, "--yes"]);
    await other.visit({ url });
    await other.page.getByRole("button", { name: "Open when you are ready" }).click();
    await expect(other.page.locator(".letter")).toHaveText("Why our house?");
    expect(fiona(["audit", "verify", "--case", caseId])).toContain("CLEAN");
  } finally {
    demo.kill("SIGINT");
    await new Promise((r) => demo.once("exit", r));
    if (existsSync(out)) rmSync(out);
  }
});
