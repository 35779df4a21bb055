// Inline SVG charts: grouped bars and a sparkline, no library.

const NS = "http://www.w3.org/2000/svg";
const COLORS = ["#3867d6", "#20bf6b", "#fa8231", "#8854d0", "#eb3b5a", "#0fb9b1"];

function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(NS, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

// Bars of `series` ({label, values: {group: number}}) grouped by `groups`.
export function groupedBars(groups, series, { width = 520, height = 200, format = (v) => v } = {}) {
  const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, class: "chart", role: "img" });
  const top = Math.max(1e-9, ...series.flatMap((s) => groups.map((g) => s.values[g] || 0)));
  const pad = 28;
  const band = (width - pad) / Math.max(1, groups.length);
  const bar = (band * 0.8) / Math.max(1, series.length);
  groups.forEach((group, gi) => {
    const x0 = pad + gi * band + band * 0.1;
    series.forEach((s, si) => {
      const value = s.values[group] || 0;
      const h = ((height - 2 * pad) * value) / top;
      const x = x0 + si * bar;
      const y = height - pad - h;
      root.append(svg("rect", { x, y, width: bar - 2, height: h, fill: COLORS[si % COLORS.length] }));
      root.append(svg("text", { x: x + bar / 2, y: y - 3, "text-anchor": "middle", class: "tick" }, format(value)));
    });
    root.append(svg("text", { x: x0 + (bar * series.length) / 2, y: height - 8, "text-anchor": "middle" }, group));
  });
  series.forEach((s, si) => {
    root.append(svg("rect", { x: pad + si * 110, y: 4, width: 10, height: 10, fill: COLORS[si % COLORS.length] }));
    root.append(svg("text", { x: pad + si * 110 + 14, y: 13, class: "tick" }, s.label));
  });
  root.append(svg("line", { x1: pad, y1: height - pad, x2: width, y2: height - pad, stroke: "#999" }));
  return root;
}

// A sparkline of the last values (null gaps skipped).
export function sparkline(values, { width = 160, height = 36 } = {}) {
  const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, class: "spark" });
  const points = values.map((v, i) => [i, v]).filter(([, v]) => v !== null && v !== undefined);
  if (points.length < 2) return root;
  const top = Math.max(1e-9, ...points.map(([, v]) => v));
  const step = width / Math.max(1, values.length - 1);
  const path = points.map(([i, v], n) => `${n ? "L" : "M"}${(i * step).toFixed(1)},${(height - 2 - ((height - 4) * v) / top).toFixed(1)}`);
  root.append(svg("path", { d: path.join(" "), fill: "none", stroke: COLORS[0], "stroke-width": 1.5 }));
  return root;
}

// Lines of `series` ({label, values: [number|null]}) over `times` (epoch seconds), with a
// legend, the first and last time on the x axis and the top value on the y axis.
export function timeLines(times, series, { width = 520, height = 200, format = (v) => v } = {}) {
  const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, class: "chart timeline", role: "img" });
  const pad = 28;
  const values = series.flatMap((s) => s.values.filter((v) => v !== null && v !== undefined));
  const top = Math.max(1e-9, ...values);
  const x = (i) => pad + ((width - 2 * pad) * i) / Math.max(1, times.length - 1);
  const y = (v) => height - pad - ((height - 2 * pad) * v) / top;
  series.forEach((s, si) => {
    const color = COLORS[si % COLORS.length];
    const points = s.values.map((v, i) => [i, v]).filter(([, v]) => v !== null && v !== undefined);
    const path = points.map(([i, v], n) => `${n ? "L" : "M"}${x(i).toFixed(1)},${y(v).toFixed(1)}`);
    if (points.length > 1) root.append(svg("path", { d: path.join(" "), fill: "none", stroke: color, "stroke-width": 2 }));
    for (const [i, v] of points) root.append(svg("circle", { cx: x(i), cy: y(v), r: 2.5, fill: color }));
    root.append(svg("rect", { x: pad + si * 110, y: 4, width: 10, height: 10, fill: color }));
    root.append(svg("text", { x: pad + si * 110 + 14, y: 13, class: "tick" }, s.label));
  });
  const clock = (t) => new Date(t * 1000).toISOString().slice(5, 16).replace("T", " ");
  root.append(svg("line", { x1: pad, y1: height - pad, x2: width - pad, y2: height - pad, stroke: "#999" }));
  root.append(svg("text", { x: 2, y: y(top) + 4, class: "tick" }, format(top)));
  if (times.length) {
    root.append(svg("text", { x: pad, y: height - 8, class: "tick" }, clock(times[0])));
    const last = times[times.length - 1];
    root.append(svg("text", { x: width - pad, y: height - 8, "text-anchor": "end", class: "tick" }, `${clock(last)} UTC`));
  }
  return root;
}
