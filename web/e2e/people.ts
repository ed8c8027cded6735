// What a participant does on the page, as a person would: by label and button text.

import { type Browser, type BrowserContext, type Page, expect } from "@playwright/test";

import { checkState } from "./harness.ts";

/** Where the page is served. */
type Site = { url: string };

/** A participant with their own browser (their own IndexedDB). */
export class Participant {
  private constructor(
    readonly name: string,
    readonly passphrase: string,
    readonly context: BrowserContext,
    readonly page: Page,
  ) {}

  static async open(browser: Browser, name: string): Promise<Participant> {
    const context = await browser.newContext({ viewport: { width: 1024, height: 800 } });
    const page = await context.newPage();
    return new Participant(name, `${name} chose a long passphrase`, context, page);
  }

  /** Joins from the link the coordinator sent; returns the safety number shown. */
  async join(service: Site, code: string, shots?: string): Promise<string> {
    const page = this.page;
    await page.goto(`${service.url}/join#${code}`);
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("Join");
    expect(page.url(), "the code leaves the address bar").toBe(`${service.url}/join`);
    if (shots !== undefined) await checkState(page, `${shots}-join`);
    await page.getByLabel("The name you want to be called").fill(this.name);
    await page.getByLabel("Choose a passphrase").fill(this.passphrase);
    await page.getByLabel("Type the passphrase again").fill(this.passphrase);
    await page.getByRole("button", { name: "Join", exact: true }).click();
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("You have joined");
    const safety = (await page.locator(".safety-number").textContent()) ?? "";
    expect(safety).toMatch(/^\d{5}( \d{5}){5}$/);
    if (shots !== undefined) await checkState(page, `${shots}-safety-number`);
    await page.getByRole("button", { name: "Continue" }).click();
    return safety;
  }

  /** Consents, after reading what it means. */
  async consent(shots?: string): Promise<void> {
    const page = this.page;
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("Before you start");
    if (shots !== undefined) await checkState(page, `${shots}-consent`);
    await page.getByLabel("I understand and I want to take part").check();
    await page.getByRole("button", { name: "Take part" }).click();
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("Your page");
  }

  /** Writes a question (from their page), with a file if given, and sends it. */
  async ask(text: string, file?: { name: string; buffer: Buffer }): Promise<void> {
    const page = this.page;
    await page.getByRole("button", { name: "Write a question" }).click();
    await page.getByLabel("Your message").fill(text);
    if (file !== undefined) {
      await page.getByLabel("Add files (optional)").setInputFiles({ ...file, mimeType: "application/octet-stream" });
    }
    await page.getByRole("button", { name: "Send to your facilitator" }).click();
    await expect(page.getByRole("heading", { level: 1 })).toHaveText(/^Sent\./);
  }

  /** Comes back to the page: a new visit, unlocked with the passphrase. */
  async visit(service: Site): Promise<void> {
    const page = this.page;
    await page.goto(service.url);
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("Welcome back");
    await page.getByLabel("Your passphrase").fill(this.passphrase);
    await page.getByRole("button", { name: "Open" }).click();
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("Your page");
  }
}
