// Models: the registry with each version's manifest figures; activate and roll back.

import { can, get, post, why } from "./api.js";
import { fill, flash, flashError, fmt, h, roleButton, table, when } from "./ui.js";

const POLL_MS = 3000;

export function models(root) {
  const body = h("div", { id: "models" });
  fill(root, h("h1", {}, "Models"), body);
  if (!can("admin")) {
    fill(body, h("p", { class: "muted" }, `The registry ${why("admin")}.`));
    return () => {};
  }

  async function refresh() {
    try {
      fill(body, render(await get("/v1/models"), refresh));
    } catch (error) {
      flashError(error);
    }
  }

  refresh();
  const timer = setInterval(refresh, POLL_MS);
  return () => clearInterval(timer);
}

function render(answer, refresh) {
  const rollback = answer.previous
    ? roleButton(`Roll back to ${answer.previous}`, "admin", () => activate(answer.previous, refresh), { id: "rollback" })
    : h("button", { disabled: true, title: "no earlier version was active on this worker" }, "Roll back");
  const rows = [...answer.details].reverse().map((d) => [
    h("code", {}, d.version),
    d.version === answer.active ? h("strong", {}, "active") : "",
    when(d.created_at),
    d.window ? `${when(d.window.start).slice(0, 10)} → ${when(d.window.end).slice(0, 10)}` : "–",
    counts(d.counts),
    rankerMetrics(d.metrics),
    d.version === answer.active ? "" : roleButton("Activate", "admin", () => activate(d.version, refresh), { dataset: { version: d.version } }),
  ]);
  return h(
    "div",
    {},
    h("p", {}, "Active: ", h("code", { id: "active-model" }, answer.active), " ", rollback),
    table(["version", "", "created (UTC)", "data window", "counts", "ranker metrics", ""], rows, { class: "models" }),
  );
}

function counts(value) {
  if (!value) return "–";
  return ["events", "users", "items"].filter((k) => k in value).map((k) => `${k} ${value[k]}`).join(" · ");
}

function rankerMetrics(metrics) {
  const ranker = metrics && metrics.ranker;
  if (!ranker || typeof ranker !== "object") return "–";
  return Object.entries(ranker)
    .filter(([, v]) => typeof v === "number")
    .slice(0, 4)
    .map(([k, v]) => `${k} ${fmt(v, 4)}`)
    .join(" · ");
}

async function activate(version, refresh) {
  try {
    const answer = await post(`/v1/models/${encodeURIComponent(version)}/activate`);
    flash(`activation of ${answer.version} published (was ${answer.previous}); workers swap when they load it`);
    setTimeout(refresh, 500);
  } catch (error) {
    flashError(error);
  }
}
