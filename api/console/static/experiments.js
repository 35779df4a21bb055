// Experiments: list, create, stop / promote where the API offers them, per-variant metrics.

import { ApiError, get, post } from "./api.js";
import { groupedBars } from "./chart.js";
import { fill, flash, flashError, fmt, h, roleButton, table, when } from "./ui.js";

const POLL_MS = 5000;
const LIFECYCLE = [
  ["stop", "Stop"],
  ["promote", "Promote"],
];

export function experiments(root) {
  const list = h("div", { id: "experiments-list" });
  const detail = h("div", { id: "experiment-detail" });
  fill(root, h("h1", {}, "Experiments"), list, detail, h("h2", {}, "New experiment"), createForm());
  const state = { selected: null };

  async function refresh() {
    try {
      const answer = await get("/v1/experiments");
      fill(list, listing(answer.experiments, state, refresh));
      if (!state.selected && answer.experiments.length) state.selected = answer.experiments.at(-1).id;
      if (state.selected) fill(detail, await metrics(state.selected));
    } catch (error) {
      flashError(error);
    }
  }

  refresh();
  const timer = setInterval(refresh, POLL_MS);
  return () => clearInterval(timer);
}

function listing(items, state, refresh) {
  if (!items.length) return h("p", { class: "muted" }, "No experiment yet.");
  const rows = items.map((e) => [
    h("a", { href: "#/experiments", onclick: (event) => { event.preventDefault(); state.selected = e.id; refresh(); } }, e.id),
    e.status,
    e.variants.map((v) => `${v.name}${v.model_version ? ` (${v.model_version})` : ""} ×${v.weight}`).join(", "),
    when(e.created_at),
    h("span", { class: "actions" }, LIFECYCLE.map(([action, label]) => roleButton(label, "admin", () => lifecycle(e, action, refresh)))),
  ]);
  return table(["id", "status", "variants", "created (UTC)", ""], rows, { class: "experiments" });
}

// Stop or promote; a worker without the route says so instead of failing silently.
async function lifecycle(experiment, action, refresh) {
  const body = action === "promote" ? { variant: experiment.variants.at(-1).name } : {};
  try {
    await post(`/v1/experiments/${encodeURIComponent(experiment.id)}/${action}`, body);
    flash(`${action} of ${experiment.id} accepted`);
    refresh();
  } catch (error) {
    if (error instanceof ApiError && (error.status === 404 || error.status === 405)) {
      flash(`This worker's API has no ${action} for experiments yet (${error.status}); nothing changed.`, "warn");
    } else {
      flashError(error);
    }
  }
}

async function metrics(experimentId) {
  const answer = await get(`/v1/experiments/${encodeURIComponent(experimentId)}/metrics`);
  const variants = answer.variants;
  const rows = variants.map((v) => [v.variant, v.users, v.requests, v.impressions, v.clicks, v.conversions, pct(v.ctr), pct(v.conversion_rate), lift(v.ctr_lift), fmt(v.ctr_p_value, 3)]);
  const chart = groupedBars(
    variants.map((v) => v.variant),
    [
      { label: "CTR %", values: Object.fromEntries(variants.map((v) => [v.variant, v.ctr * 100])) },
      { label: "conversion %", values: Object.fromEntries(variants.map((v) => [v.variant, v.conversion_rate * 100])) },
    ],
    { format: (value) => value.toFixed(1) },
  );
  return h(
    "section",
    { class: "metrics" },
    h("h2", {}, `Metrics of ${experimentId} (control: ${answer.control})`),
    table(["variant", "users", "pages", "impressions", "clicks", "conversions", "CTR", "conversion", "CTR lift", "p"], rows),
    chart,
  );
}

const pct = (value) => `${fmt(value * 100, 2)}%`;
const lift = (value) => (value === null ? "–" : `${value >= 0 ? "+" : ""}${fmt(value * 100, 1)}%`);

function createForm() {
  const id = h("input", { name: "id", placeholder: "id, e.g. explore-more", required: true, pattern: "[A-Za-z0-9_.-]{1,64}" });
  const description = h("input", { name: "description", placeholder: "description" });
  const variants = h("input", { name: "variants", value: "control:1, treatment:1", title: "name:weight[:model version], comma separated" });
  const submit = roleButton("Create", "admin", undefined, { type: "submit" });
  return h(
    "form",
    {
      id: "experiment-form",
      class: "stack",
      onsubmit: async (event) => {
        event.preventDefault();
        try {
          await post("/v1/experiments", { id: id.value.trim(), description: description.value, variants: parseVariants(variants.value) });
          flash(`experiment ${id.value} created`);
          location.hash = "#/experiments";
        } catch (error) {
          flashError(error);
        }
      },
    },
    id,
    description,
    variants,
    submit,
  );
}

function parseVariants(text) {
  return text.split(",").map((part) => part.trim()).filter(Boolean).map((part) => {
    const [name, weight, version] = part.split(":").map((s) => s.trim());
    return { name, weight: Number(weight || 1), ...(version ? { model_version: version } : {}) };
  });
}
