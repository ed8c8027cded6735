// The whole exchange, with people in the browser and staff on the CLI: a harmed person joins,
// consents and asks a question with a photo; the facilitator redacts and forwards it; the
// responsible person opens it (and sees that details were removed), answers; the facilitator
// returns the answer with a note; it is rewritten in the browser and forwarded; the harmed
// person reads it. The audit is CLEAN, and nothing secret reached the server.

import { readFileSync } from "node:fs";

import { expect, test } from "@playwright/test";

import { toBase64 } from "../src/crypto/bytes.ts";
import { openKeystore } from "../src/crypto/keystore.ts";
import { Service, checkState } from "./harness.ts";
import { Participant } from "./people.ts";

/** A small PNG: the "photo" the harmed person attaches. */
const PHOTO = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGP4z8DAwMDAxMDAwMDAAAANHQEDasKb6QAAAABJRU5ErkJggg==",
  "base64",
);

const QUESTION = "Did you know our children were asleep upstairs? You can ring me on 07700 900461.";
const FIRST_ANSWER = "I did not know. You should have locked the door.";
const SECOND_ANSWER = "I did not know anyone was upstairs. I am sorry for what that night did to your family.";
const NOTE = "The part about the door reads as blaming. Could you say what you want her to know instead?";

test("a question and an answer travel through the facilitator, in the browser", async ({ browser }) => {
  const service = await Service.start();
  try {
    const { caseId, harmed: hcode, responsible: rcode } = service.openCase();

    const harriet = await Participant.open(browser, "Harriet");
    const rory = await Participant.open(browser, "Rory");

    await test.step("both join and consent in their own browsers", async () => {
      await harriet.join(service, hcode, "01");
      await harriet.consent("02");
      await checkState(harriet.page, "03-home-waiting");
      await rory.join(service, rcode);
      await rory.consent();
      for (const name of ["Harriet", "Rory"])
        service.cli("facilitator", ["verify-key", name, "--case", caseId, "--yes"]);
    });

    let questionId = "";
    await test.step("Harriet asks a question with a photo", async () => {
      await harriet.visit(service);
      await checkState(harriet.page, "04-home-active");
      const page = harriet.page;
      await page.getByRole("button", { name: "Write a question" }).click();
      await page.getByLabel("Your message").fill(QUESTION);
      await page
        .getByLabel("Add files (optional)")
        .setInputFiles({ name: "kitchen.png", mimeType: "image/png", buffer: PHOTO });
      await checkState(page, "05-write");
      await page.getByRole("button", { name: "Send to your facilitator" }).click();
      await expect(page.getByRole("heading", { level: 1 })).toHaveText(/^Sent\./);
      await checkState(page, "06-sent");
      const review = service.toReview();
      expect(review).toHaveLength(1);
      questionId = review[0] ?? "";
    });

    await test.step("Fiona reviews, redacts and forwards it with the CLI", async () => {
      const shown = service.cli("facilitator", ["review", questionId, "--redact-detected"]);
      expect(shown).toContain("asleep upstairs");
      service.cli("facilitator", ["forward", questionId, "--redact-detected", "--keep", "0", "--yes"]);
    });

    let answerId = "";
    await test.step("Rory opens it when ready, sees the redaction, and answers", async () => {
      await rory.visit(service);
      const page = rory.page;
      await expect(page.getByText("A question from the other person, passed on by your facilitator")).toBeVisible();
      await expect(page.getByText("asleep upstairs")).toHaveCount(0);
      await checkState(page, "07-inbox-waiting");
      await page.getByRole("button", { name: "Open when you are ready" }).click();
      await expect(page.getByText("Checked: passed on by Fiona, your facilitator.")).toBeVisible();
      await expect(page.getByText("Some details were removed by Fiona.")).toBeVisible();
      await expect(page.locator(".letter")).toContainText("asleep upstairs");
      await expect(page.locator(".letter")).not.toContainText("900461");
      await checkState(page, "08-read-redacted");
      const saving = page.waitForEvent("download");
      await page.getByRole("button", { name: /^Save kitchen\.png/ }).click();
      const saved = await saving;
      expect(saved.suggestedFilename()).toBe("kitchen.png");
      expect(readFileSync(await saved.path())).toEqual(PHOTO);
      await page.getByRole("button", { name: "Yes, let them know" }).click();
      await expect(page.getByRole("button", { name: "Yes, let them know" })).toHaveCount(0);
      await page.getByRole("button", { name: "Answer this question" }).click();
      await expect(page.getByText("You are answering this question:")).toBeVisible();
      await checkState(page, "08b-write-answer");
      await page.getByLabel("Your message").fill(FIRST_ANSWER);
      await page.getByRole("button", { name: "Send to your facilitator" }).click();
      await expect(page.getByRole("heading", { level: 1 })).toHaveText(/^Sent\./);
      answerId = service.toReview()[0] ?? "";
      expect(answerId).not.toBe("");
    });

    await test.step("Fiona returns the answer with a note", async () => {
      service.cli("facilitator", ["review", answerId]);
      service.cli("facilitator", ["return", answerId, "--note", NOTE]);
    });

    await test.step("Rory reads the note and writes a new version", async () => {
      await rory.visit(service);
      const page = rory.page;
      await expect(page.getByText(/returned to you with a note/)).toBeVisible();
      await page.getByRole("button", { name: "Read the note" }).click();
      await expect(page.getByText("Fiona, your facilitator, wrote:")).toBeVisible();
      await expect(page.getByText(NOTE)).toBeVisible();
      await checkState(page, "09-note");
      await page.getByRole("button", { name: "Write a new version" }).click();
      await expect(page.getByLabel("Your message")).toHaveValue(FIRST_ANSWER);
      await checkState(page, "09b-write-new-version");
      await page.getByLabel("Your message").fill(SECOND_ANSWER);
      await page.getByRole("button", { name: "Send to your facilitator" }).click();
      await expect(page.getByRole("heading", { level: 1 })).toHaveText(/^Sent\./);
    });

    await test.step("Fiona forwards the new version as written; Harriet reads it", async () => {
      const second = service.toReview().find((id) => id !== answerId) ?? "";
      service.cli("facilitator", ["review", second]);
      service.cli("facilitator", ["forward", second, "--yes"]);
      await harriet.visit(service);
      const page = harriet.page;
      await page.getByRole("button", { name: "Open when you are ready" }).click();
      await expect(page.getByText("These are Rory's own words, as they wrote them.")).toBeVisible();
      await expect(page.locator(".letter")).toHaveText(SECOND_ANSWER);
      await checkState(page, "10-read-own-words");
      await page.getByRole("button", { name: "No, thank you" }).click();
    });

    await test.step("the audit of the case is CLEAN", () => {
      const audit = service.cli("coordinator", ["audit", "verify", "--case", caseId]);
      expect(audit).toContain("CLEAN");
    });

    await test.step("no private key, passphrase, code or plaintext reached the server or its log", async () => {
      // Harriet's private keys, as her saved copy holds them.
      await harriet.visit(service);
      const saving = harriet.page.waitForEvent("download");
      await harriet.page.getByRole("button", { name: "Save a copy of your keys" }).click();
      const copy = new Uint8Array(readFileSync(await (await saving).path()));
      const [keys] = await openKeystore(copy, harriet.passphrase);
      if (keys === undefined) throw new Error("the saved copy holds no keys");
      const stored = service.storedBytes();
      for (const secret of [
        Buffer.from(keys.signingSecret),
        Buffer.from(keys.ageSecret),
        Buffer.from(toBase64(keys.signingSecret)),
      ]) {
        expect(stored.includes(secret), "a private key is stored").toBe(false);
        expect(service.log.includes(secret.toString("latin1")), "a private key is logged").toBe(false);
      }
      const secrets = [
        harriet.passphrase,
        rory.passphrase,
        hcode,
        rcode,
        hcode.replaceAll("-", ""),
        "asleep upstairs",
        "900461",
        FIRST_ANSWER,
        SECOND_ANSWER,
        NOTE,
      ];
      for (const secret of secrets) {
        expect(stored.includes(Buffer.from(secret)), `stored bytes hold "${secret}"`).toBe(false);
        expect(service.log.includes(secret), `the server's log holds "${secret}"`).toBe(false);
      }
      expect(stored.includes(PHOTO), "the photo is stored in the clear").toBe(false);
    });
  } finally {
    service.stop();
  }
});
