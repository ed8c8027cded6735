// Attacks on the page: a hostile server altering what a facilitator passed on, rolling the
// log back, or a join link used a second time. Each is refused with a plain warning, and no
// content is shown.

import { type Page, expect, test } from "@playwright/test";

import { axeViolations } from "./axe.ts";
import { Service, checkState } from "./harness.ts";
import { Participant } from "./people.ts";

const QUESTION = "What were you thinking about that night?";

/** Flips one base64 character in the middle of `text` (keeping it valid base64). */
function flip(text: string): string {
  const i = Math.floor(text.length / 2);
  const c = text[i] === "A" ? "B" : "A";
  return text.slice(0, i) + c + text.slice(i + 1);
}

/** Serves the real delivery with `change` applied to it, as a hostile server would. */
async function tamper(page: Page, change: (delivery: Record<string, unknown>) => void): Promise<void> {
  await page.unroute("**/v1/deliveries/*");
  await page.route("**/v1/deliveries/*", async (route) => {
    const real = await route.fetch();
    const delivery = (await real.json()) as Record<string, unknown>;
    change(delivery);
    await route.fulfill({ response: real, json: delivery });
  });
}

test("what a hostile server alters is refused, and a rolled-back log stops the page", async ({ browser }) => {
  const service = await Service.start();
  try {
    const { caseId, harmed, responsible } = service.openCase();
    const harriet = await Participant.open(browser, "Harriet");
    const rory = await Participant.open(browser, "Rory");
    await harriet.join(service, harmed);
    await harriet.consent();
    await rory.join(service, responsible);
    await rory.consent();
    for (const name of ["Harriet", "Rory"]) service.cli("facilitator", ["verify-key", name, "--case", caseId, "--yes"]);

    await test.step("a join link used a second time fails clearly", async () => {
      const someone = await Participant.open(browser, "Someone");
      const page = someone.page;
      await page.goto(`${service.url}/join#${harmed}`);
      await page.getByLabel("The name you want to be called").fill("Someone");
      await page.getByLabel("Choose a passphrase").fill(someone.passphrase);
      await page.getByLabel("Type the passphrase again").fill(someone.passphrase);
      await page.getByRole("button", { name: "Join", exact: true }).click();
      await expect(page.getByRole("alert")).toContainText("You have not joined yet.");
      await expect(page.getByRole("alert")).toContainText("ask your coordinator for a new one");
      await checkState(page, "20-join-link-used");
      await someone.context.close();
    });

    // Rory's visit before anything more happens: the checkpoint the page then verified.
    let oldCheckpoint = "";
    rory.page.on("response", (r) => {
      if (r.url().endsWith("/v1/checkpoint") && oldCheckpoint === "") {
        void r.text().then((t) => (oldCheckpoint = t));
      }
    });
    await rory.visit(service);
    expect(oldCheckpoint).not.toBe("");

    await harriet.visit(service);
    await harriet.ask(QUESTION, { name: "drawing.bin", buffer: Buffer.from("a drawing, as bytes") });
    const [id] = service.toReview();
    service.cli("facilitator", ["review", id ?? ""]);
    service.cli("facilitator", ["forward", id ?? "", "--keep", "0", "--yes"]);
    await rory.visit(service);
    const page = rory.page;

    const refused = async (what: string, change: (d: Record<string, unknown>) => void) => {
      await test.step(what, async () => {
        await tamper(page, change);
        await page.getByRole("button", { name: /^Open/ }).click();
        await expect(page.getByRole("heading", { level: 1 })).toHaveText("This message could not be checked");
        await expect(page.getByRole("alert")).toContainText("It may have been changed on its way to you");
        await expect(page.getByText(QUESTION)).toHaveCount(0);
        await expect(page.locator(".letter")).toHaveCount(0);
        await page.getByRole("button", { name: "Back" }).click();
      });
    };
    await refused("a forward whose signature was altered", (d) => {
      const st = d.statement as { sig: string };
      st.sig = flip(st.sig);
    });
    await refused("a forward whose ciphertext was altered", (d) => {
      d.ciphertext = flip(d.ciphertext as string);
    });
    await refused("a forward whose signed body was altered", (d) => {
      const st = d.statement as { body: string };
      st.body = flip(st.body);
    });
    await refused("a forward signed by someone who is not the case's facilitator", (d) => {
      d.facilitator_card = d.author_card;
      (d.statement as { signer: string }).signer = (d.author_card as { signer: string }).signer;
    });
    await checkState(page, "21-message-refused");

    await test.step("the same message, untouched, opens", async () => {
      await page.unroute("**/v1/deliveries/*");
      await page.getByRole("button", { name: /^Open/ }).click();
      await expect(page.locator(".letter")).toHaveText(QUESTION);
    });

    await test.step("an attachment a hostile server altered is not saved", async () => {
      await page.route("**/v1/deliveries/*/attachments/*", async (route) => {
        const real = await route.fetch();
        const bytes = Buffer.from(await real.body());
        const at = bytes.length - 20;
        bytes.writeUInt8(bytes.readUInt8(at) ^ 1, at);
        await route.fulfill({ response: real, body: bytes });
      });
      let saved = false;
      page.on("download", () => (saved = true));
      await page.getByRole("button", { name: /^Save drawing\.bin/ }).click();
      await expect(page.getByRole("alert")).toHaveText("This file did not pass its check, so it was not saved.");
      expect(saved).toBe(false);
      await page.unroute("**/v1/deliveries/*/attachments/*");
    });

    await test.step("a session the server ended locks the page", async () => {
      await page.route("**/v1/inbox", (route) =>
        route.fulfill({ status: 401, json: { error: { code: "unauthorized", message: "no live session" } } }),
      );
      await page.getByRole("button", { name: "Back" }).click();
      await expect(page.getByRole("heading", { level: 1 })).toHaveText("Welcome back");
      await expect(page.getByText("Your session has ended.")).toBeVisible();
      await page.unroute("**/v1/inbox");
    });

    await test.step("a rolled-back checkpoint stops the page", async () => {
      await page.route("**/v1/checkpoint", (route) =>
        route.fulfill({ contentType: "application/json", body: oldCheckpoint }),
      );
      await page.goto(service.url);
      await page.getByLabel("Your passphrase").fill(rory.passphrase);
      await page.getByRole("button", { name: "Open" }).click();
      await expect(page.getByRole("heading", { level: 1 })).toHaveText("Stop: please do not use this page now");
      await expect(page.getByRole("alert")).toContainText("shorter than when you last visited");
      await checkState(page, "22-log-rolled-back");
      await expect(page.getByRole("button", { name: /Open when/ })).toHaveCount(0);
    });

    await test.step("a checkpoint not signed by the service's key stops the page", async () => {
      const forged = JSON.parse(oldCheckpoint) as { note: string };
      const lines = forged.note.split("\n");
      lines[1] = String(Number(lines[1]) + 1000);
      forged.note = lines.join("\n");
      await page.route("**/v1/checkpoint", (route) =>
        route.fulfill({ contentType: "application/json", body: JSON.stringify(forged) }),
      );
      await page.goto(service.url);
      await page.getByLabel("Your passphrase").fill(rory.passphrase);
      await page.getByRole("button", { name: "Open" }).click();
      await expect(page.getByRole("alert")).toContainText("not signed with its own key");
    });
  } finally {
    service.stop();
  }
});

test("the accessibility check finds what is wrong", async ({ page }) => {
  await page.setContent('<html><body><main><input type="text"><img src="x.png"></main></body></html>');
  const found = (await axeViolations(page)).map((v) => v.id);
  expect(found).toContain("label");
  expect(found).toContain("image-alt");
});
