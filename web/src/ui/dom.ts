// Building the page: elements from plain values. Text is always set as text, never as HTML,
// so nothing another person wrote can become markup or script.

type Child = Node | string | null | undefined | false;

interface Props {
  [attribute: string]: string | number | boolean | ((e: Event) => void) | undefined;
}

/** An element with attributes (`on…` props become listeners) and children. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Props = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === false) continue;
    if (typeof value === "function") {
      el.addEventListener(name.slice(2).toLowerCase(), value);
    } else {
      el.setAttribute(name, value === true ? "" : String(value));
    }
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    el.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return el;
}

let fieldCount = 0;

/** A labelled form field with an optional hint, tied together for screen readers. */
export function field(
  label: string,
  input: HTMLInputElement | HTMLTextAreaElement,
  hint?: string,
): { wrap: HTMLElement; input: HTMLInputElement | HTMLTextAreaElement } {
  const id = `field-${++fieldCount}`;
  input.id = id;
  const parts: Child[] = [h("label", { for: id }, label)];
  if (hint !== undefined) {
    input.setAttribute("aria-describedby", `${id}-hint`);
    parts.push(h("p", { id: `${id}-hint`, class: "hint" }, hint));
  }
  parts.push(input);
  return { wrap: h("div", { class: "field" }, ...parts), input };
}

/** A paragraph that screen readers announce when its text changes (errors and progress). */
export function alertRegion(): HTMLParagraphElement {
  return h("p", { role: "alert", class: "alert", hidden: true });
}

/** Shows `text` in an alert region (or hides it when empty). */
export function say(region: HTMLElement, text: string): void {
  region.textContent = text;
  region.hidden = text === "";
}

/** A human size: bytes, KB or MB. */
export function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(0)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** Hands `file` to the browser to save as `name`. */
export function saveFile(file: Blob, name: string): void {
  const url = URL.createObjectURL(file);
  const link = h("a", { href: url, download: name, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
