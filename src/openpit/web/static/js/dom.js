// Tiny DOM helpers. Invariant: text goes in through textContent only (no innerHTML),
// so nothing from the wire is ever parsed as markup.

export const $ = (sel, root = document) => root.querySelector(sel);
export const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

export function el(tag, text, cls, attrs) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  if (attrs) for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
}

export function toast(text, kind = "info", ms = 6000) {
  const box = $("#toasts");
  const t = el("div", text, "toast " + kind, { role: "status" });
  box.append(t);
  while (box.children.length > 5) box.firstChild.remove();
  setTimeout(() => t.remove(), ms);
}
