// The prison path seen from the page: Harriet's question is printed for Rory, who is in
// prison and takes part on paper; his handwritten answer, typed up by Fiona, reaches Harriet's
// page saying plainly that it was written by hand and typed up. Anyone holding the printed
// letter checks its code on the service's /verify page, without an account.

import { writeFileSync } from "node:fs";
import { join } from "node:path";

import { expect, test } from "@playwright/test";

import { Service, checkState } from "./harness.ts";
import { Participant } from "./people.ts";

const QUESTION = "Did you know we were away that week?";
const ANSWER = "Yes. Someone told me. I am sorry I used that against you.";

test("a letter goes to a person on paper and their handwritten answer comes back", async ({ browser }) => {
  const service = await Service.start();
  try {
    const { caseId, harmed } = service.openCase();
    service.cli("coordinator", ["paper", "add", caseId, "--name", "Rory", "--role", "responsible"]);
    const harriet = await Participant.open(browser, "Harriet");
    await harriet.join(service, harmed);
    await harriet.consent();
    service.cli("facilitator", ["verify-key", "Harriet", "--case", caseId, "--yes"]);
    const file = (name: string, text: string) => {
      const path = join(service.dir, "people", "facilitator", name);
      writeFileSync(path, text);
      return path;
    };
    service.cli("facilitator", [
      "paper",
      "consent",
      "--for",
      "Rory",
      "--scan",
      file("consent.png", "a scanned consent form"),
      "--place",
      "prison visit",
      "--case",
      caseId,
    ]);

    await harriet.visit(service);
    await expect(
      harriet.page.getByText(
        "Rory takes part on paper. Your facilitator types up what they write by hand, and prints what is passed on to them.",
      ),
    ).toBeVisible();
    await checkState(harriet.page, "49-home-with-someone-on-paper");
    await harriet.ask(QUESTION);
    const questionId = service.toReview()[0] ?? "";
    service.cli("facilitator", ["review", questionId]);
    service.cli("facilitator", ["forward", questionId, "--yes"]);
    const pdf = join(service.dir, "people", "facilitator", "letter.pdf");
    const printed = service.json("facilitator", ["paper", "print", questionId, "--out", pdf, "--case", caseId]);
    const code = printed.code as string;

    const answer = service.json("facilitator", [
      "paper",
      "enter",
      "answer",
      "--for",
      "Rory",
      "--in-reply-to",
      questionId,
      "--scan",
      file("page.png", "a scanned handwritten page"),
      "--file",
      file("typed.txt", ANSWER),
      "--case",
      caseId,
    ]);
    const answerId = answer.message_id as string;
    service.cli("facilitator", ["review", answerId]);
    service.cli("facilitator", ["forward", answerId, "--keep", "0", "--yes"]);

    await harriet.visit(service);
    const page = harriet.page;
    await page.getByRole("button", { name: "Open when you are ready" }).click();
    await expect(page.getByText("Rory wrote this by hand. Fiona, a facilitator, typed it up for them.")).toBeVisible();
    await expect(page.getByText("A picture of the handwritten page is attached.")).toBeVisible();
    await expect(page.getByText("These are Rory's words, as they were typed up.")).toBeVisible();
    await expect(page.locator(".letter")).toHaveText(ANSWER);
    await checkState(page, "50-read-typed-up");
    const saving = page.waitForEvent("download");
    await page.getByRole("button", { name: /^Save page\.png/ }).click();
    expect((await saving).suggestedFilename()).toBe("page.png");

    // Prison staff check the printed letter: from its square code, then by typing.
    const staff = await browser.newPage();
    await staff.goto(`${service.url}/verify#${code}`);
    expect(staff.url(), "the code leaves the address bar").toBe(`${service.url}/verify`);
    await expect(staff.getByRole("heading", { level: 1 })).toHaveText("Check a printed letter");
    await expect(staff.getByText(/^Yes\. A facilitator of this service approved this question on /)).toBeVisible();
    await expect(staff.getByText(QUESTION)).toHaveCount(0);
    await checkState(staff, "51-verify-found");
    const typo = code.slice(0, 3) + (code[3] === "A" ? "B" : "A") + code.slice(4);
    await staff.getByLabel("The code on the letter").fill(typo);
    await staff.getByRole("button", { name: "Check" }).click();
    await expect(staff.getByRole("alert")).toHaveText(/mistyped/);
    await checkState(staff, "52-verify-mistyped");
  } finally {
    service.stop();
  }
});
