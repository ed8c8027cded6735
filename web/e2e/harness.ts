// The real parts for the browser tests: a ferry-server on an ephemeral port with its own data
// directory, and the `ferry` CLI for the coordinator and facilitator, each person with their
// own FERRY_HOME. Binaries are the ones `cargo test` / `cargo build` made.

import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

import type { Page } from "@playwright/test";
import { expect } from "@playwright/test";

import { axeViolations } from "./axe.ts";

const target = fileURLToPath(new URL("../../target/debug/", import.meta.url));
const SERVER = process.env.FERRY_SERVER_BIN ?? join(target, "ferry-server");
export const CLI = process.env.FERRY_CLI_BIN ?? join(target, "ferry");

/** Fails loudly when the binaries are missing. */
export function requireBinaries(): void {
  for (const bin of [SERVER, CLI]) {
    if (!existsSync(bin)) {
      throw new Error(`no ${bin}: run \`cargo build\` (or the README's test command) first`);
    }
  }
}

/** The CLI passphrase of every CLI person in the tests. */
export const CLI_PASSPHRASE = "cli passphrase for the tests";

/** A running service. */
export class Service {
  private staffed = false;
  private constructor(
    readonly dir: string,
    readonly url: string,
    readonly coordinatorCode: string,
    private readonly server: ChildProcess,
    private readonly logPath: string,
  ) {}

  /** Everything the server logged so far. */
  get log(): string {
    return readFileSync(this.logPath, "utf8");
  }

  static async start(): Promise<Service> {
    requireBinaries();
    const dir = mkdtempSync(join(tmpdir(), "ferry-browser-"));
    const env = cleanEnv({ FERRY_LOG: "debug" });
    const init = execFileSync(SERVER, ["--data-dir", dir, "init"], {
      env,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
    const code = /^ {4}(\S+)$/m.exec(init)?.[1];
    if (code === undefined) throw new Error(`no invitation in:\n${init}`);
    // The log goes to a file: a pipe would fill while a CLI call blocks this process.
    const logPath = join(dir, "server.log");
    const logFile = openSync(logPath, "w");
    const server = spawn(SERVER, ["--data-dir", dir, "--listen", "127.0.0.1:0"], {
      env,
      stdio: ["ignore", logFile, logFile],
    });
    closeSync(logFile);
    let address: string | undefined;
    for (let i = 0; i < 600 && address === undefined; i++) {
      if (server.exitCode !== null) throw new Error(`ferry-server stopped:\n${readFileSync(logPath, "utf8")}`);
      await new Promise((r) => setTimeout(r, 100));
      address = /listening address=(\S+)/.exec(readFileSync(logPath, "utf8"))?.[1];
    }
    if (address === undefined) throw new Error("ferry-server did not start listening within a minute");
    const service = new Service(dir, `http://${address}`, code, server, logPath);
    return service;
  }

  /** Runs `ferry` as `person` (with `extra` environment); returns its output. */
  cli(person: string, args: string[], extra: Record<string, string> = {}): string {
    const home = join(this.dir, "people", person);
    mkdirSync(home, { recursive: true });
    const env = cleanEnv({
      FERRY_HOME: home,
      FERRY_PASSPHRASE: CLI_PASSPHRASE,
      FERRY_KEYSTORE_WORK_FACTOR: "10",
      NO_COLOR: "1",
      ...extra,
    });
    try {
      return execFileSync(CLI, args, { env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    } catch (e) {
      const err = e as { stdout?: string; stderr?: string };
      throw new Error(`ferry ${args.join(" ")} as ${person} failed:\n${err.stdout ?? ""}${err.stderr ?? ""}`);
    }
  }

  /** Runs `ferry --json` as `person`; returns the parsed answer. */
  json(person: string, args: string[]): Record<string, unknown> {
    return JSON.parse(this.cli(person, ["--json", ...args])) as Record<string, unknown>;
  }

  /**
   * Sets up a case as the staff do on the CLI: a coordinator and a facilitator (Fiona), a case
   * allocated to her and assessed, and invitations for the harmed and responsible people.
   */
  openCase(): { caseId: string; harmed: string; responsible: string } {
    if (!this.staffed) {
      this.cli("coordinator", ["enrol", this.url, this.coordinatorCode, "--name", "Chris Coordinator"]);
      const fcode = this.json("coordinator", ["staff", "invite", "--role", "facilitator"]).code as string;
      this.cli("facilitator", ["enrol", this.url, fcode, "--name", "Fiona"]);
      this.staffed = true;
    }
    const fid = (this.json("facilitator", ["whoami"]).me as { account_id: string }).account_id;
    const caseId = this.json("coordinator", ["case", "open", "--reference", "RJ-1", "--category", "burglary"])
      .case_id as string;
    this.cli("coordinator", ["case", "allocate", caseId, fid]);
    this.cli("coordinator", ["case", "risk", caseId, "proceed"]);
    const harmed = this.json("coordinator", ["case", "invite", caseId, "--role", "harmed"]).code as string;
    const responsible = this.json("coordinator", ["case", "invite", caseId, "--role", "responsible"]).code as string;
    return { caseId, harmed, responsible };
  }

  /** The ids of the messages waiting for the facilitator's review. */
  toReview(): string[] {
    return (this.json("facilitator", ["inbox"]).review as { message_id: string }[]).map((m) => m.message_id);
  }

  /** Every byte the server stored: its database files and blobs. */
  storedBytes(): Buffer {
    const parts: Buffer[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) walk(path);
        else if (path !== this.logPath && !path.includes("/people/")) parts.push(readFileSync(path));
      }
    };
    walk(this.dir);
    return Buffer.concat(parts);
  }

  stop(): void {
    this.server.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The environment without any FERRY_ setting from outside, plus `extra`. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(env)) if (name.startsWith("FERRY_")) delete env[name];
  return { ...env, ...extra };
}

const shots = fileURLToPath(new URL("../test-results/screenshots/", import.meta.url));

/**
 * Checks a page state as a person meets it: no axe-core violations (WCAG 2.2 A and AA), no
 * sideways scrolling at 320 px (a 1280 px screen at 400%) or at 640 px (at 200%), and a
 * screenshot saved under test-results/screenshots.
 */
export async function checkState(page: Page, name: string): Promise<void> {
  const results = await axeViolations(page);
  expect(results, `accessibility of "${name}"`).toEqual([]);
  mkdirSync(shots, { recursive: true });
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
  const size = page.viewportSize();
  for (const width of [640, 320]) {
    await page.setViewportSize({ width, height: 640 });
    const wide = await page.evaluate(() => document.documentElement.scrollWidth);
    expect(wide, `"${name}" fits ${width} px without scrolling sideways`).toBeLessThanOrEqual(width);
  }
  await page.screenshot({ path: join(shots, `${name}-320px.png`), fullPage: true });
  if (size !== null) await page.setViewportSize(size);
}
