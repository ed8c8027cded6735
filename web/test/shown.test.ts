// Names another person chose cannot hide or reorder what the page shows.

import { expect, it } from "vitest";

import { shown } from "../src/ui/shown.ts";

it("writes reordering and control characters visibly, and leaves the rest", () => {
  expect(shown("Rory\u202egnp.exe")).toBe("Rory\\u{202e}gnp.exe");
  expect(shown("a\u200bb\u2066c\u0007d\n")).toBe("a\\u{200b}b\\u{2066}c\\u{7}d\\u{a}");
  expect(shown("Siân Ó Dálaigh 李")).toBe("Siân Ó Dálaigh 李");
  expect(shown("tab\there")).toBe("tab\there");
});
