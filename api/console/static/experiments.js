// Experiments: list, create, start / stop / promote / delete, per-variant metrics with intervals.

import { ApiError, call, get, post } from "./api.js";
import { groupedBars, timeLines } from "./chart.js";
import { fill, flash, flashError, fmt, h, roleButton, table, when } from "./ui.js";

const POLL_MS = 5000;
const LIFECYCLE = [
  ["start", "Start"],
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
      if (state.selected && !answer.experiments.some((e) => e.id === state.selected)) state.selected = null;
      if (!state.selected && answer.experiments.length) state.selected = answer.experiments.at(-1).id;
      fill(detail, state.selected ? await metrics(state.selected) : "");
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
    e.layer || "default",
    e.promoted ? `${e.status} (${e.promoted})` : e.status,
    e.variants.map(variantText).join(", "),
    when(e.created_at),
    h(
      "span",
      { class: "actions" },
      ...LIFECYCLE.map(([action, label]) =>
        roleButton(action === "promote" ? `${label} ${promotable(e).name}` : label, "admin", () => lifecycle(e, action, refresh)),
      ),
      roleButton("Delete", "admin", () => remove(e, refresh)),
    ),
  ]);
  return table(["id", "layer", "status", "variants", "created (UTC)", ""], rows, { class: "experiments" });
}

function variantText(v) {
  return `${v.name}${v.model_version ? ` (${v.model_version})` : ""}${v.shadow ? " shadow" : ` ×${v.weight}`}`;
}

// The variant Promote makes the default: the last one users are assigned to.
function promotable(experiment) {
  return experiment.variants.filter((v) => !v.shadow).at(-1);
}

// Start, stop or promote; a worker without the route says so instead of failing silently.
async function lifecycle(experiment, action, refresh) {
  const body = action === "promote" ? { variant: promotable(experiment).name } : {};
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

async function remove(experiment, refresh) {
  if (!window.confirm(`Delete experiment ${experiment.id}? Its metrics go with it.`)) return;
  try {
    await call("DELETE", `/v1/experiments/${encodeURIComponent(experiment.id)}`);
    flash(`${experiment.id} deleted`);
    refresh();
  } catch (error) {
    flashError(error);
  }
}

async function metrics(experimentId) {
  const answer = await get(`/v1/experiments/${encodeURIComponent(experimentId)}/metrics`);
  const variants = answer.variants;
  const rows = variants.map((v) => [
    v.variant,
    v.users,
    v.requests,
    v.impressions,
    v.clicks,
    v.conversions,
    withInterval(v.ctr, v.ctr_ci),
    withInterval(v.ctr_difference, v.ctr_difference_ci, true),
    fmt(v.ctr_p_value, 3),
    withInterval(v.conversion_rate, v.conversion_rate_ci),
    withInterval(v.user_conversion, v.user_conversion_ci),
    fmt(v.user_conversion_p_value, 3),
  ]);
  const chart = groupedBars(
    variants.map((v) => v.variant),
    [
      { label: "CTR %", values: Object.fromEntries(variants.map((v) => [v.variant, (v.ctr || 0) * 100])) },
      { label: "converted users %", values: Object.fromEntries(variants.map((v) => [v.variant, (v.user_conversion || 0) * 100])) },
    ],
    { format: (value) => value.toFixed(1) },
  );
  const shadows = answer.shadow_variants.length ? ` · shadow (logged, never shown): ${answer.shadow_variants.join(", ")}` : "";
  return h(
    "section",
    { class: "metrics" },
    h("h2", {}, `Metrics of ${experimentId} (control: ${answer.control})`),
    ...answer.notices.map((n) => h("p", { class: "notice" }, `${n.code}: ${n.message}`)),
    table(
      ["variant", "users", "pages", "impressions", "clicks", "conversions", "CTR [95% CI]", "Δ CTR vs control", "p", "conversions / page", "converted users", "p"],
      rows,
    ),
    h("p", { class: "muted" }, srmText(answer.sample_ratio), shadows),
    chart,
    overTime(answer.timeline),
  );
}

// Running CTR of each variant at the end of each time bucket.
function overTime(timeline) {
  if (!timeline || !timeline.starts.length) return h("p", { class: "muted" }, "Over time: nothing served yet.");
  const series = Object.entries(timeline.cumulative).map(([variant, rows]) => ({
    label: `${variant} CTR %`,
    values: rows.map((row) => (row.impressions ? (100 * row.clicks) / row.impressions : null)),
  }));
  const minutes = Math.round(timeline.bucket_seconds / 60);
  return h(
    "figure",
    { class: "over-time" },
    timeLines(timeline.starts, series, { format: (value) => value.toFixed(1) }),
    h("figcaption", { class: "muted" }, `Running CTR per variant, by ${minutes}-minute buckets`),
  );
}

// "12.30% [11.10, 13.50]": a rate (or a difference) in percent with its 95% interval.
function withInterval(value, interval, signed = false) {
  if (value === null || value === undefined) return "–";
  const sign = signed && value >= 0 ? "+" : "";
  const range = interval ? ` [${fmt(interval[0] * 100, 2)}, ${fmt(interval[1] * 100, 2)}]` : "";
  return `${sign}${fmt(value * 100, 2)}%${range}`;
}

function srmText(srm) {
  if (!srm) return "Sample ratio check: no users yet.";
  const verdict = srm.mismatch ? " — MISMATCH: do not trust the comparison" : " (consistent with the declared split)";
  return `Sample ratio check: chi-square ${fmt(srm.chi_square, 2)}, p = ${fmt(srm.p_value, 4)}${verdict}`;
}

function createForm() {
  const id = h("input", { name: "id", placeholder: "id, e.g. explore-more", required: true, pattern: "[A-Za-z0-9_.-]{1,64}" });
  const description = h("input", { name: "description", placeholder: "description" });
  const layer = h("input", { name: "layer", placeholder: "layer (default)", pattern: "[A-Za-z0-9_.-]{1,64}" });
  const variants = h("input", {
    name: "variants",
    value: "control:1, treatment:1",
    title: "name:weight[:model version], comma separated; weight 0 makes a shadow variant",
  });
  const submit = roleButton("Create", "admin", undefined, { type: "submit" });
  return h(
    "form",
    {
      id: "experiment-form",
      class: "stack",
      onsubmit: async (event) => {
        event.preventDefault();
        try {
          const body = { id: id.value.trim(), description: description.value, variants: parseVariants(variants.value) };
          if (layer.value.trim()) body.layer = layer.value.trim();
          await post("/v1/experiments", body);
          flash(`experiment ${id.value} created`);
          location.hash = "#/experiments";
        } catch (error) {
          flashError(error);
        }
      },
    },
    id,
    description,
    layer,
    variants,
    submit,
  );
}

function parseVariants(text) {
  return text.split(",").map((part) => part.trim()).filter(Boolean).map((part) => {
    const [name, weight, version] = part.split(":").map((s) => s.trim());
    const share = Number(weight || 1);
    return { name, ...(share > 0 ? { weight: share } : { shadow: true }), ...(version ? { model_version: version } : {}) };
  });
}
