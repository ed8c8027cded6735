// A supporter writes to the person they choose: the page asks, and the letter is addressed
// to that role.

import { expect, test } from "@playwright/test";

import { Service, checkState } from "./harness.ts";
import { Participant } from "./people.ts";

test("a supporter chooses who their letter is for", async ({ browser }) => {
  const service = await Service.start();
  try {
    const { caseId, harmed, responsible } = service.openCase();
    const scode = service.json("coordinator", ["case", "invite", caseId, "--role", "supporter"]).code as string;
    const people: [Participant, string][] = [
      [await Participant.open(browser, "Harriet"), harmed],
      [await Participant.open(browser, "Rory"), responsible],
      [await Participant.open(browser, "Sam"), scode],
    ];
    for (const [person, code] of people) {
      await person.join(service, code);
      await person.consent();
      service.cli("facilitator", ["verify-key", person.name, "--case", caseId, "--yes"]);
    }
    const sam = people[2]?.[0] as Participant;
    await sam.visit(service);
    const page = sam.page;
    await page.getByRole("button", { name: "Write a letter" }).click();
    await page.getByLabel("Your message").fill("I am here with Harriet.");
    await page.getByRole("button", { name: "Send to your facilitator" }).click();
    await expect(page.getByRole("alert")).toHaveText("Please choose who your message is for.");
    await page.getByLabel("The person who was harmed").check();
    await checkState(page, "40-supporter-writes");
    await page.getByRole("button", { name: "Send to your facilitator" }).click();
    await expect(page.getByRole("heading", { level: 1 })).toHaveText(/^Sent\./);
    const review = service.json("facilitator", ["inbox"]).review as { recipient_role: string }[];
    expect(review.map((m) => m.recipient_role)).toEqual(["harmed"]);
  } finally {
    service.stop();
  }
});
