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
    metricsText(d.metrics),
    seconds(d.timings),
    d.version === answer.active ? "" : roleButton("Activate", "admin", () => activate(d.version, refresh), { dataset: { version: d.version } }),
  ]);
  return h(
    "div",
    {},
    h("p", {}, "Active: ", h("code", { id: "active-model" }, answer.active), " ", rollback),
    table(["version", "", "created (UTC)", "data window", "counts", "metrics", "training", ""], rows, { class: "models" }),
  );
}

function counts(value) {
  if (!value) return "–";
  return ["events", "users", "items"].filter((k) => k in value).map((k) => `${k} ${value[k]}`).join(" · ");
}

// Every number the manifest's metrics hold, flattened: `ranker rows 14850 · …`.
function metricsText(metrics) {
  const parts = [];
  const walk = (prefix, value) => {
    if (typeof value === "number") parts.push(`${prefix} ${label(prefix, value)}`);
    else if (value && typeof value === "object") for (const [k, v] of Object.entries(value)) walk(prefix ? `${prefix} ${k}` : k, v);
  };
  walk("", metrics || {});
  return parts.length ? parts.join(" · ") : "–";
}

function label(key, value) {
  if (key.endsWith("cut")) return when(value);
  return Number.isInteger(value) ? String(value) : fmt(value, 4);
}

function seconds(timings) {
  if (!timings) return "–";
  return `${fmt(Object.values(timings).reduce((a, b) => a + b, 0), 1)} s`;
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
