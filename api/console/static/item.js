// Item: catalog row, live counters, exploration arm and similar items.

import { get } from "./api.js";
import { fill, flashError, fmt, h, itemLink, searchForm, table, when } from "./ui.js";

const POLL_MS = 2000;
const COUNTERS = [
  ["views_24h", "views 24 h"],
  ["clicks_24h", "clicks 24 h"],
  ["purchases_24h", "purchases 24 h"],
  ["events_1h", "events 1 h"],
  ["events_all", "events, all time"],
  ["trending", "trend velocity"],
];

export function item(root, itemId) {
  const search = searchForm("item", "item id, e.g. 50", itemId);
  fill(root, h("h1", {}, "Item"), search);
  if (!itemId) return () => {};
  const about = h("div", { id: "item-about" });
  const similar = h("div", { id: "item-similar" });
  fill(root, h("h1", {}, `Item ${itemId}`), search, h("div", { class: "columns" }, about, h("section", {}, h("h2", {}, "Similar items"), similar)));
  const path = `/v1/items/${encodeURIComponent(itemId)}`;

  async function refresh() {
    try {
      fill(about, describe(await get(path)));
    } catch (error) {
      flashError(error);
    }
  }

  get(`${path}/similar?count=10`)
    .then((answer) => fill(similar, h("p", { class: "muted" }, `model ${answer.model_version}`), table(["item", "score"], answer.items.map((s) => [itemLink(s.item_id), s.score.toFixed(3)]))))
    .catch((error) => fill(similar, h("p", { class: "muted" }, `no similar items: ${error.message}`)));
  refresh();
  const timer = setInterval(refresh, POLL_MS);
  return () => clearInterval(timer);
}

function describe(answer) {
  const catalog = answer.catalog;
  const signals = answer.signals;
  const row = catalog
    ? table(["title", "category", "tags", "price", "in stock", "added"], [[catalog.title || "–", catalog.category || "–", (catalog.tags || []).join(", "), catalog.price ?? "–", catalog.in_stock ? "yes" : "no", when(catalog.created_at)]])
    : h("p", { class: "muted" }, "not in the catalog (only live counters)");
  return h("section", {}, h("h2", {}, "Catalog"), row, h("h2", {}, "Live counters"), counters(signals), h("h2", {}, "Exploration arm"), arm(signals));
}

function counters(signals) {
  if (!signals) return h("p", { class: "muted" }, "no events yet");
  const rows = COUNTERS.map(([key, label]) => [label, fmt(signals[key], key === "trending" ? 3 : 0)]);
  rows.push(["last event", when(signals.last_event_at)]);
  return table(["counter", "value"], rows, { class: "counters" });
}

function arm(signals) {
  if (!signals) return h("p", { class: "muted" }, "no impressions yet");
  const alpha = signals.arm_alpha;
  const beta = signals.arm_beta;
  const mean = alpha + beta > 0 ? alpha / (alpha + beta) : null;
  return table(
    ["impressions", "Beta α (clicks + 1)", "Beta β (misses + 1)", "expected click rate"],
    [[fmt(signals.impressions, 0), fmt(alpha, 2), fmt(beta, 2), mean === null ? "–" : `${fmt(mean * 100, 2)}%`]],
  );
}
