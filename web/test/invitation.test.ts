// Invitations as people type or paste them.

import { expect, it } from "vitest";

import { parseInvitation } from "../src/crypto/invitation.ts";

const CODE = "EJJ2X-M4TSF-C44QE-KJN79-CJ0AY-SDZ8D";
const KEY = "3ERP2-KSR04-ZG4BP-FW9DA";

it("reads the code typed loosely or pasted as a link", () => {
  const read = { code: CODE, serverKey: KEY };
  expect(parseInvitation(`${CODE}-${KEY}`)).toEqual(read);
  expect(parseInvitation(` ${CODE.toLowerCase()} ${KEY.toLowerCase()} `)).toEqual(read);
  expect(parseInvitation(`${CODE.replaceAll("0", "O")}-${KEY.replaceAll("0", "o")}`)).toEqual(read);
  expect(parseInvitation(`https://ferry.example.org/join#${CODE}-${KEY}`)).toEqual(read);
});

it("says what is wrong with a code it cannot read", () => {
  expect(parseInvitation(CODE)).toEqual({
    problem: "This code is missing its last four groups. Ask your coordinator for the whole code.",
  });
  for (const bad of [
    "",
    `${CODE}-${KEY}-AAAAA`,
    `${CODE}-3ERP2-KSR04-ZG4BP-FW9D`,
    `${CODE}-${KEY}`.replace("E", "U"),
  ]) {
    expect(parseInvitation(bad)).toHaveProperty("problem");
  }
  expect(parseInvitation("https://ferry.example.org/join#%E0%A4%A")).toHaveProperty("problem");
});
