// Safety on the page: leaving quickly (button, or Escape three times) swaps the page for a
// neutral site and locks the keys; the page locks itself when left alone; everything works
// with the keyboard alone; a pause holds anything new until the person says; stopping takes
// two steps; the key backup opens with the passphrase.

import { readFileSync } from "node:fs";

import { expect, test } from "@playwright/test";

import { accountIdOf, openKeystore } from "../src/crypto/keystore.ts";
import { Service, checkState } from "./harness.ts";
import { Participant } from "./people.ts";

const NEUTRAL = "https://www.bbc.co.uk/weather";

test("leaving quickly, locking, the keyboard alone, pausing, stopping and the key backup", async ({ browser }) => {
  const service = await Service.start();
  try {
    const { caseId, harmed, responsible } = service.openCase();

    const rory = await Participant.open(browser, "Rory");
    await test.step("Rory joins and consents with the keyboard alone", async () => {
      const page = rory.page;
      await page.goto(`${service.url}/join#${responsible}`);
      await expect(page.getByRole("heading", { level: 1 })).toBeFocused();
      await page.keyboard.press("Tab");
      await expect(page.getByLabel("The name you want to be called")).toBeFocused();
      await page.keyboard.type("Rory");
      await page.keyboard.press("Tab");
      await page.keyboard.type(rory.passphrase);
      await page.keyboard.press("Tab");
      await page.keyboard.type(rory.passphrase);
      await page.keyboard.press("Tab");
      await expect(page.getByRole("button", { name: "Join", exact: true })).toBeFocused();
      await page.keyboard.press("Enter");
      await expect(page.getByRole("heading", { level: 1 })).toHaveText("You have joined");
      await expect(page.getByRole("heading", { level: 1 })).toBeFocused();
      await page.keyboard.press("Tab");
      await page.keyboard.press("Tab");
      await expect(page.getByRole("button", { name: "Continue" })).toBeFocused();
      await page.keyboard.press("Enter");
      await expect(page.getByRole("heading", { level: 1 })).toHaveText("Before you start");
      await page.keyboard.press("Tab");
      await expect(page.getByLabel("I understand and I want to take part")).toBeFocused();
      await page.keyboard.press("Space");
      await page.keyboard.press("Tab");
      await page.keyboard.press("Enter");
      await expect(page.getByRole("heading", { level: 1 })).toHaveText("Your page");
    });

    const harriet = await Participant.open(browser, "Harriet");
    const page = harriet.page;
    await harriet.join(service, harmed);
    await harriet.consent();
    for (const name of ["Harriet", "Rory"]) service.cli("facilitator", ["verify-key", name, "--case", caseId, "--yes"]);
    await page.route(`${NEUTRAL}**`, (route) =>
      route.fulfill({ contentType: "text/html", body: "<html lang=en><title>Weather</title><h1>Weather</h1></html>" }),
    );

    await test.step("the key backup opens with the passphrase, as the same person", async () => {
      await harriet.visit(service);
      const saving = page.waitForEvent("download");
      await page.getByRole("button", { name: "Save a copy of your keys" }).click();
      const saved = await saving;
      expect(saved.suggestedFilename()).toBe("ferry-keys.age");
      const file = new Uint8Array(readFileSync(await saved.path()));
      expect(new TextDecoder().decode(file.slice(0, 21))).toBe("age-encryption.org/v1");
      const [identity] = await openKeystore(file, harriet.passphrase);
      const me = await page.evaluate(async () => {
        const db = await new Promise<IDBDatabase>((ok) => {
          const r = indexedDB.open("ferry");
          r.onsuccess = () => ok(r.result);
        });
        const stored = await new Promise<{ accountId: string; signingKey?: CryptoKey }>((ok) => {
          const r = db.transaction("people").objectStore("people").get("me");
          r.onsuccess = () => ok(r.result as { accountId: string; signingKey?: CryptoKey });
        });
        return { accountId: stored.accountId, extractable: stored.signingKey?.extractable };
      });
      expect(identity && accountIdOf(identity)).toBe(me.accountId);
      // Chromium has Ed25519 and X25519: the keys the page uses cannot be read out.
      expect(me.extractable).toBe(false);

      // The CLI keeps the same keys from the copy (after checking the server's key code).
      const key = harmed.split("-").slice(6).join("-");
      const env = { FERRY_IMPORT_PASSPHRASE: harriet.passphrase };
      const copy = await saved.path();
      const wrongKey = ["import-keys", copy, service.url, "--server-key", "00000-00000-00000-00000"];
      expect(() => service.cli("harriet-cli", wrongKey, env)).toThrow(/SECURITY WARNING/);
      service.cli("harriet-cli", ["import-keys", copy, service.url, "--server-key", key.toLowerCase()], env);
      const whoami = service.json("harriet-cli", ["whoami"]) as { me: { account_id: string; display_name: string } };
      expect(whoami.me.account_id).toBe(me.accountId);
      expect(whoami.me.display_name).toBe("Harriet");

      // On another device, the copy brings Harriet back, once she checked the service's code.
      const elsewhere = await Participant.open(browser, "Harriet");
      const other = elsewhere.page;
      await other.goto(service.url);
      await other.getByRole("button", { name: "Use a saved copy of your keys" }).click();
      await checkState(other, "37-restore");
      await other.getByLabel("Your saved keys").setInputFiles(await saved.path());
      await other.getByLabel("Your passphrase").fill("not the passphrase at all");
      await other.getByRole("button", { name: "Open my keys" }).click();
      await expect(other.getByRole("alert")).toContainText("does not open with that passphrase");
      await other.getByLabel("Your passphrase").fill(harriet.passphrase);
      await other.getByRole("button", { name: "Open my keys" }).click();
      await expect(other.locator(".safety-number")).toHaveText(harmed.split("-").slice(6).join("-"));
      await checkState(other, "36-restore-check-service");
      await other.getByRole("button", { name: "They are the same" }).click();
      await expect(other.getByRole("heading", { level: 1 })).toHaveText("Your page");
      await expect(other.getByText("Hello Harriet.")).toBeVisible();
      await elsewhere.context.close();
    });

    await test.step("a pause holds anything new until Harriet says", async () => {
      await page.getByRole("button", { name: "Pause: hold anything new until I say" }).click();
      await expect(page.getByText("You asked to hold anything new.")).toBeVisible();
      await checkState(page, "34-home-holding");
      await rory.visit(service);
      await rory.ask("Is there anything you want to ask me?");
      const [id] = service.toReview();
      service.cli("facilitator", ["review", id ?? ""]);
      expect(service.cli("facilitator", ["forward", id ?? "", "--yes"])).toContain("asked to hold anything new");
      await harriet.visit(service);
      await expect(page.getByText("Nothing is waiting for you.")).toBeVisible();
      await page.getByRole("button", { name: "I am ready: let new messages reach me" }).click();
      await expect(page.getByRole("button", { name: "Open when you are ready" })).toBeVisible();
      await expect(page.getByText("You asked to hold anything new.")).toHaveCount(0);
      expect(service.cli("coordinator", ["audit", "verify", "--case", caseId])).toContain("CLEAN");
    });

    await test.step("the button leaves for a neutral site and locks the keys", async () => {
      await page.getByRole("button", { name: "Leave this page quickly" }).click();
      await expect(page).toHaveURL(NEUTRAL);
      await page.goBack().catch(() => undefined);
      expect(page.url()).not.toBe(`${service.url}/`);
      await page.goto(service.url);
      await expect(page.getByRole("heading", { level: 1 })).toHaveText("Welcome back");
    });

    await test.step("Escape three times leaves too", async () => {
      await page.getByLabel("Your passphrase").fill(harriet.passphrase);
      await page.getByRole("button", { name: "Open" }).click();
      await expect(page.getByRole("heading", { level: 1 })).toHaveText("Your page");
      await page.keyboard.press("Escape");
      await page.keyboard.press("Escape");
      await expect(page.getByRole("heading", { level: 1 })).toHaveText("Your page");
      await page.keyboard.press("Escape");
      await expect(page).toHaveURL(NEUTRAL);
    });

    await test.step("stopping takes two steps, and taking part again is possible", async () => {
      await harriet.visit(service);
      await page.getByRole("button", { name: "Stop taking part" }).click();
      await expect(page.getByText("Your case pauses at once.")).toBeVisible();
      await checkState(page, "30-withdraw-what-it-means");
      await page.getByRole("button", { name: "Continue" }).click();
      await expect(page.getByRole("heading", { level: 1 })).toHaveText("Are you sure you want to stop?");
      await checkState(page, "31-withdraw-are-you-sure");
      await page.getByRole("button", { name: "Yes, stop taking part" }).click();
      await expect(page.getByText("You have stopped taking part.")).toBeVisible();
      await checkState(page, "31b-withdrawn");
      await page.getByRole("button", { name: "Back" }).click();
      await expect(page.getByText("Your case is paused.")).toBeVisible();
      await expect(page.getByRole("button", { name: "Write a question" })).toHaveCount(0);
      await checkState(page, "32-home-paused");
      const shown = service.cli("coordinator", ["case", "show", caseId]);
      expect(shown).toMatch(/paused/);
      await page.getByRole("button", { name: "Take part again" }).click();
      await harriet.consent();
    });

    await test.step("a second invitation opened on the same device adds the case", async () => {
      const second = service.openCase();
      await page.goto(`${service.url}/join#${second.harmed}`);
      await expect(page.getByText("This device already holds your keys.")).toBeVisible();
      await checkState(page, "35-join-again");
      await page.getByLabel("Your passphrase").fill(harriet.passphrase);
      await page.getByRole("button", { name: "Open" }).click();
      await expect(page.getByText("The invitation was used: the new case is on your page.")).toBeVisible();
      await page.getByRole("button", { name: "Continue" }).click();
      await harriet.consent();
      await expect(page.locator("section.case")).toHaveCount(2);
    });

    await test.step("the page locks itself when left alone", async () => {
      await page.clock.install();
      await harriet.visit(service);
      await page.clock.fastForward("06:00");
      await expect(page.getByRole("heading", { level: 1 })).toHaveText("Welcome back");
      await expect(page.getByText("The page locked itself")).toBeVisible();
      await checkState(page, "33-locked-when-idle");
    });
  } finally {
    service.stop();
  }
});
