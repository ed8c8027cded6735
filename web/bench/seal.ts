// Seals the chosen file exactly as the page's "Add files" does (sealAttachment to a
// facilitator and the author), and shows how long it took, in milliseconds.

import { generateX25519Identity, identityToRecipient } from "age-encryption";

import { sealAttachment } from "../src/crypto/letters.ts";

const input = document.getElementById("file") as HTMLInputElement;
const result = document.getElementById("result") as HTMLOutputElement;

document.getElementById("seal")?.addEventListener("click", () => {
  void (async () => {
    const file = input.files?.[0];
    if (file === undefined) return;
    const recipients = [
      await identityToRecipient(await generateX25519Identity()),
      await identityToRecipient(await generateX25519Identity()),
    ];
    const start = performance.now();
    const sealed = await sealAttachment(recipients, file.name, file, () => {});
    const took = performance.now() - start;
    result.value = `${took.toFixed(1)} ${sealed.blob.size}`;
  })();
});
