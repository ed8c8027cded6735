// Builds the participant page into dist/: one script and one style sheet, each named by its
// hash and carrying a Subresource Integrity digest in index.html, and the gzipped size of
// everything reported (and held to the 200 KB budget).

import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";

import { defineConfig, type Plugin } from "vite";

/** The page's budget: JavaScript and CSS, gzipped, in all. */
const BUDGET_BYTES = 200 * 1024;

/** Adds `integrity` to every script and style sheet index.html loads, and reports sizes. */
function integrityAndSize(): Plugin {
  return {
    name: "ferry-integrity-and-size",
    enforce: "post",
    generateBundle(_options, bundle) {
      const html = bundle["index.html"];
      if (html === undefined || html.type !== "asset") this.error("index.html was not built");
      let text = String(html.source);
      let gzipped = 0;
      for (const [name, item] of Object.entries(bundle)) {
        if (!/\.(js|css)$/.test(name)) continue;
        const bytes = item.type === "chunk" ? item.code : item.source;
        gzipped += gzipSync(bytes, { level: 9 }).length;
        const digest = createHash("sha384").update(bytes).digest("base64");
        const reference = new RegExp(`((?:src|href)="/${name.replace(/[.]/g, "\\.")}")`, "g");
        if (!reference.test(text)) continue;
        text = text.replace(reference, `$1 integrity="sha384-${digest}"`);
      }
      if (/<(script|link)\b(?![^>]*integrity=)[^>]*(src|href)=/.test(text)) {
        this.error("a script or style sheet in index.html has no integrity digest");
      }
      html.source = text;
      const kb = (gzipped / 1024).toFixed(1);
      this.info(`JavaScript and CSS, gzipped: ${kb} KB of ${BUDGET_BYTES / 1024} KB`);
      if (gzipped > BUDGET_BYTES) this.error(`the page is ${kb} KB gzipped, over its budget`);
    },
  };
}

export default defineConfig({
  base: "/",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    assetsInlineLimit: 0,
    modulePreload: false,
    reportCompressedSize: false,
    target: "es2022",
  },
  plugins: [integrityAndSize()],
});
