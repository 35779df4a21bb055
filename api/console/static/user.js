// User: history, the live page with reasons, and view / click / buy through POST /v1/events.

import { get, post } from "./api.js";
import { fill, flash, flashError, h, itemLink, roleButton, searchForm, table, when } from "./ui.js";

const POLL_MS = 3000;
const WATCH_MS = 40;
const WATCH_LIMIT_MS = 15000;
export const FRESHNESS_TARGET_MS = 1000;
const ACTIONS = [
  ["view", "View"],
  ["click", "Click"],
  ["purchase", "Buy"],
];

export function user(root, userId) {
  const search = searchForm("user", "user id, e.g. 196", userId);
  fill(root, h("h1", {}, "User"), search);
  if (!userId) return () => {};
  const status = h("p", { id: "rw-status", class: "rw" });
  const page = h("div", { id: "user-page" });
  const past = h("div", { id: "user-history" });
  fill(root, h("h1", {}, `User ${userId}`), search, status, h("div", { class: "columns" }, h("section", {}, h("h2", {}, "Recommended now"), page), h("section", {}, h("h2", {}, "History"), past)));
  const view = { userId, page, past, status, busy: false };
  refresh(view);
  const timer = setInterval(() => view.busy || refresh(view), POLL_MS);
  return () => clearInterval(timer);
}

async function refresh(view) {
  try {
    const [recs, history] = await Promise.all([recommendations(view.userId), historyOf(view.userId)]);
    render(view, recs, history);
    return { recs, history };
  } catch (error) {
    flashError(error);
    return null;
  }
}

const recommendations = (userId) => get(`/v1/recommendations?user_id=${encodeURIComponent(userId)}&count=10`);

async function historyOf(userId) {
  try {
    return await get(`/v1/users/${encodeURIComponent(userId)}/history`);
  } catch (error) {
    if (error.status === 404) return { user_id: userId, version: 0, counts: {}, items: [] };
    throw error;
  }
}

function render(view, recs, history) {
  view.requestId = recs.request_id;
  const rows = recs.items.map((item, n) => [
    String(n + 1),
    itemLink(item.item_id),
    item.score.toFixed(3),
    h("span", { class: "reason" }, item.reason ? item.reason.text : ""),
    h("span", { class: "actions" }, ACTIONS.map(([type, label]) => roleButton(label, "writer", () => act(view, item.item_id, type), { dataset: { item: item.item_id, action: type } }))),
  ]);
  const meta = h("p", { class: "muted" }, `model ${recs.model_version}`, recs.experiment ? ` · experiment ${recs.experiment.id}/${recs.experiment.variant}` : "");
  const empty = rows.length ? null : h("p", { class: "muted" }, "Nothing to recommend yet: the catalog and the item counters are empty.");
  fill(view.page, meta, empty, table(["#", "item", "score", "reason", ""], rows, { class: "recs", dataset: { version: history.version } }));
  const counts = Object.entries(history.counts || {}).map(([type, n]) => `${type} ${n}`).join(" · ");
  const events = history.items.map((e) => [when(e.timestamp), h("span", { class: `type type-${e.type}` }, e.type), itemLink(e.item_id), e.value ?? ""]);
  fill(view.past, h("p", { class: "muted" }, `state version ${history.version}`, counts ? ` · ${counts}` : ""), table(["time (UTC)", "type", "item", "value"], events, { class: "history" }));
}

// Publish one event, then watch the API until the user's state and page show it.
async function act(view, itemId, type) {
  view.busy = true;
  const before = await historyOf(view.userId).catch(() => ({ version: 0 }));
  const context = { request_id: view.requestId, device: "console" };
  const event = { user_id: view.userId, item_id: itemId, type, timestamp: new Date().toISOString(), context };
  const sent = performance.now();
  try {
    await post("/v1/events", event);
  } catch (error) {
    view.busy = false;
    flashError(error);
    return;
  }
  const accepted = performance.now() - sent;
  flash("");
  fill(view.status, `${type} of item ${itemId} accepted in ${accepted.toFixed(0)} ms; waiting for the state…`);
  const seen = await watch(view, before.version, itemId, type, sent);
  view.busy = false;
  report(view, itemId, type, accepted, seen);
}

async function watch(view, version, itemId, type, sent) {
  const seen = { state: null, leftPage: null };
  while (performance.now() - sent < WATCH_LIMIT_MS) {
    const now = await refresh(view);
    const elapsed = performance.now() - sent;
    if (now) {
      if (seen.state === null && now.history.version > version) seen.state = elapsed;
      const onPage = now.recs.items.some((item) => item.item_id === itemId);
      if (seen.leftPage === null && type === "purchase" && !onPage) seen.leftPage = elapsed;
    }
    if (seen.state !== null && (type !== "purchase" || seen.leftPage !== null)) break;
    await new Promise((resolve) => setTimeout(resolve, WATCH_MS));
  }
  return seen;
}

function report(view, itemId, type, accepted, seen) {
  const parts = [`${type} of item ${itemId}: accepted in ${accepted.toFixed(0)} ms`];
  parts.push(seen.state === null ? "not in the state after 15 s" : `in the user's state after ${seen.state.toFixed(0)} ms`);
  if (type === "purchase") parts.push(seen.leftPage === null ? "still on the page" : `left the page after ${seen.leftPage.toFixed(0)} ms`);
  const worst = Math.max(seen.state ?? Infinity, type === "purchase" ? seen.leftPage ?? Infinity : 0);
  const verdict = worst <= FRESHNESS_TARGET_MS ? `within the ${FRESHNESS_TARGET_MS} ms target` : `over the ${FRESHNESS_TARGET_MS} ms target`;
  view.status.dataset.stateMs = seen.state === null ? "" : seen.state.toFixed(1);
  view.status.dataset.leftMs = seen.leftPage === null ? "" : seen.leftPage.toFixed(1);
  view.status.className = `rw ${worst <= FRESHNESS_TARGET_MS ? "ok" : "late"}`;
  fill(view.status, `Read your write: ${parts.join("; ")} (${verdict}).`);
}
