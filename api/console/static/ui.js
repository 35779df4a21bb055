// Small DOM helpers shared by the pages.

import { can, explain, get, why } from "./api.js";

// h("div", {class: "x", onclick: f}, child, "text") builds an element.
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// Replace the content of `node`.
export function fill(node, ...children) {
  node.replaceChildren();
  for (const child of children.flat()) {
    if (child !== undefined && child !== null && child !== false) node.append(child);
  }
  return node;
}

// A table from column names and rows (arrays of cells).
export function table(columns, rows, attrs = {}) {
  return h(
    "table",
    attrs,
    h("thead", {}, h("tr", {}, columns.map((c) => h("th", {}, c)))),
    h("tbody", {}, rows.map((row) => h("tr", {}, row.map((cell) => h("td", {}, cell))))),
  );
}

// A button usable only with `role`; otherwise disabled with the reason as its tooltip.
export function roleButton(label, role, onclick, attrs = {}) {
  const allowed = can(role);
  return h(
    "button",
    { ...attrs, onclick: allowed ? onclick : undefined, disabled: !allowed, title: allowed ? attrs.title : why(role) },
    label,
  );
}

// The page-level message line.
export function flash(text, kind = "info") {
  const node = document.getElementById("flash");
  node.textContent = text;
  node.className = `flash ${kind}`;
  node.hidden = !text;
}

export function flashError(error) {
  flash(explain(error), "error");
}

// A figure with a label, for the overview tiles.
export function tile(label, value, hint) {
  return h("div", { class: "tile" }, h("div", { class: "value" }, value), h("div", { class: "label" }, label), hint && h("div", { class: "hint" }, hint));
}

export function fmt(value, digits = 1, unit = "") {
  if (value === null || value === undefined || Number.isNaN(value)) return "–";
  return `${Number(value).toFixed(digits)}${unit}`;
}

export function when(epochSeconds) {
  if (!epochSeconds) return "–";
  return new Date(epochSeconds * 1000).toISOString().replace("T", " ").slice(0, 19);
}

const titles = new Map();

// A link to an item's page, labelled with its catalog title once known (fetched once per id).
export function itemLink(itemId) {
  const link = h("a", { href: `#/item/${encodeURIComponent(itemId)}`, dataset: { item: itemId } }, itemId);
  if (!titles.has(itemId)) {
    titles.set(itemId, get(`/v1/items/${encodeURIComponent(itemId)}`).then((a) => a.catalog && a.catalog.title).catch(() => null));
  }
  titles.get(itemId).then((title) => {
    if (title) link.textContent = `${title} (${itemId})`;
  });
  return link;
}

export function userLink(userId) {
  return h("a", { href: `#/user/${encodeURIComponent(userId)}` }, userId);
}

// A search form: an input and a button that navigates to `#/<page>/<value>`.
export function searchForm(page, placeholder, value) {
  const input = h("input", { name: "q", placeholder, value: value || "", required: true });
  return h(
    "form",
    {
      class: "search",
      onsubmit: (event) => {
        event.preventDefault();
        location.hash = `#/${page}/${encodeURIComponent(input.value.trim())}`;
      },
    },
    input,
    h("button", { type: "submit" }, "Open"),
  );
}
