// Overview: this worker's live figures from GET /stats, polled every second.

import { get, setAuth } from "./api.js";
import { sparkline } from "./chart.js";
import { fill, flashError, fmt, h, table, tile } from "./ui.js";

const POLL_MS = 1000;
const KEEP = 60;

export function overview(root) {
  const history = { events: [], freshness: [], latency: [] };
  const figures = h("div", { class: "tiles", id: "overview-tiles" });
  const workers = h("div", { id: "overview-workers" });
  const span = h("p", { class: "muted" }, "This worker; refreshed every second.");
  fill(root, h("h1", {}, "Overview"), span, figures, h("h2", {}, "Workers"), workers);

  async function refresh() {
    let stats;
    try {
      stats = await get("/stats");
    } catch (error) {
      flashError(error);
      return;
    }
    setAuth(stats.auth);
    remember(history.events, stats.events_per_s);
    remember(history.freshness, stats.freshness_p99_ms);
    remember(history.latency, stats.recommendation_p99_ms);
    fill(span, `This worker, over the last ${fmt(stats.window_s, 0)} s; refreshed every second.`);
    fill(figures, tiles(stats, history));
    fill(workers, workerTable(stats));
  }

  refresh();
  const timer = setInterval(refresh, POLL_MS);
  return () => clearInterval(timer);
}

function remember(list, value) {
  list.push(value);
  if (list.length > KEEP) list.shift();
}

// A percentile in ms; `≥` when the histogram only bounds it from below.
function ms(stats, key) {
  return `${stats.at_least.includes(key) ? "≥ " : ""}${fmt(stats[key], 1, " ms")}`;
}

function tiles(stats, history) {
  const hit = stats.cache_hit_rate === null ? "–" : `${fmt(stats.cache_hit_rate * 100, 0)}%`;
  return [
    h("div", { class: "tile-wrap" }, tile("events/s applied", fmt(stats.events_per_s, 1), `${fmt(stats.events_applied, 0)} in all`), sparkline(history.events)),
    tile("consumer lag (records)", fmt(stats.consumer_lag, 0)),
    h("div", { class: "tile-wrap" }, tile("event → state p99", ms(stats, "freshness_p99_ms"), `p50 ${ms(stats, "freshness_p50_ms")}`), sparkline(history.freshness)),
    h("div", { class: "tile-wrap" }, tile("recommendation p99", ms(stats, "recommendation_p99_ms"), `p50 ${ms(stats, "recommendation_p50_ms")}`), sparkline(history.latency)),
    tile("cache hit rate", hit),
    tile("active model", stats.active_model, stats.previous_model ? `before: ${stats.previous_model}` : "", "model"),
  ];
}

function workerTable(stats) {
  const rows = stats.workers.length
    ? stats.workers.map((w) => [w.url + (w.self ? " (this one)" : ""), w.partitions.join(", ") || "–"])
    : [[`${stats.worker} (this one)`, "all (no assignment reported)"]];
  return table(["worker", "events partitions"], rows, { class: "workers" });
}
