/* Inline SVG charts, drawn with the DOM: no library, nothing fetched. Each chart has role="img",
   a title and a description; the pages show the same numbers in a table beside it. */
"use strict";

const SVG_NS = "http://www.w3.org/2000/svg";

function svgEl(name, attrs, text) {
  const el = document.createElementNS(SVG_NS, name);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

function svgRoot(width, height, label, cls) {
  const svg = svgEl("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": label, class: cls || "chart" });
  svg.appendChild(svgEl("title", {}, label));
  return svg;
}

function niceMax(value) {
  if (!(value > 0)) return 1;
  const magnitude = Math.pow(10, Math.floor(Math.log10(value)));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * magnitude >= value) return step * magnitude;
  return 10 * magnitude;
}

/* A small line of the values (nulls are gaps), for a KPI card. */
function sparkline(values, label) {
  const width = 140, height = 36, pad = 3;
  const svg = svgRoot(width, height, label, "sparkline");
  const known = values.filter((v) => v !== null && v !== undefined);
  if (known.length === 0) return svg;
  const min = Math.min(...known), max = Math.max(...known);
  const span = max - min || 1;
  const x = (i) => pad + (i * (width - 2 * pad)) / Math.max(1, values.length - 1);
  const y = (v) => height - pad - ((v - min) * (height - 2 * pad)) / span;
  let path = "", pen = false;
  values.forEach((v, i) => {
    if (v === null || v === undefined) { pen = false; return; }
    path += `${pen ? "L" : "M"}${x(i).toFixed(1)},${y(v).toFixed(1)} `;
    pen = true;
  });
  svg.appendChild(svgEl("path", { d: path.trim(), fill: "none", stroke: "#0b4f8a", "stroke-width": 2 }));
  const last = values.length - 1;
  if (values[last] !== null && values[last] !== undefined) {
    svg.appendChild(svgEl("circle", { cx: x(last), cy: y(values[last]), r: 3, fill: "#0b4f8a" }));
  }
  return svg;
}

/* Bars per period with an optional target line. points: [{label, value}]; format: value -> text. */
function barChart(points, options) {
  const { label, target, format } = options;
  const width = 760, height = 300, left = 64, right = 16, top = 16, bottom = 54;
  const svg = svgRoot(width, height, label);
  const values = points.map((p) => p.value).filter((v) => v !== null && v !== undefined);
  const high = niceMax(Math.max(0, ...values, target ?? 0));
  const low = Math.min(0, ...values);
  const plotH = height - top - bottom, plotW = width - left - right;
  const y = (v) => top + plotH - ((v - low) * plotH) / (high - low || 1);
  for (let i = 0; i <= 4; i++) {
    const v = low + ((high - low) * i) / 4;
    svg.appendChild(svgEl("line", { x1: left, x2: width - right, y1: y(v), y2: y(v), stroke: "#c9ced6" }));
    svg.appendChild(svgEl("text", { x: left - 6, y: y(v) + 4, "text-anchor": "end" }, format(v)));
  }
  const slot = plotW / Math.max(1, points.length);
  points.forEach((p, i) => {
    const x = left + i * slot;
    if (p.value !== null && p.value !== undefined) {
      const bar = svgEl("rect", { x: x + slot * 0.15, width: slot * 0.7, y: Math.min(y(p.value), y(0)),
        height: Math.max(1, Math.abs(y(0) - y(p.value))), fill: "#0b4f8a" });
      bar.appendChild(svgEl("title", {}, `${p.label}: ${format(p.value)}`));
      svg.appendChild(bar);
    }
    if (points.length <= 16 || i % 2 === 0) {
      svg.appendChild(svgEl("text", { x: x + slot / 2, y: height - bottom + 16, "text-anchor": "middle" }, p.label));
    }
  });
  if (target !== null && target !== undefined) {
    svg.appendChild(svgEl("line", { x1: left, x2: width - right, y1: y(target), y2: y(target), stroke: "#7a4d00",
      "stroke-width": 2, "stroke-dasharray": "6 4" }));
    svg.appendChild(svgEl("text", { x: width - right, y: y(target) - 5, "text-anchor": "end" }, options.targetLabel));
  }
  return svg;
}

/* The double bottom line: per phase/month, bars of cumulative expected and actual hours in % of the
   hours set aside for the course; lines of expected and actual progression (right axis). */
function doubleBottomLineChart(hours, progression, texts) {
  const width = 820, height = 360, left = 60, right = 60, top = 20, bottom = 60;
  const svg = svgRoot(width, height, texts.label);
  svg.appendChild(svgEl("desc", {}, texts.description));
  const setAside = hours.length ? hours[hours.length - 1].cumulative_expected_hours : 0;
  const pct = (h) => (setAside ? (100 * h) / setAside : 0);
  const highPct = niceMax(Math.max(100, ...hours.map((r) => pct(r.cumulative_actual_hours))));
  const plotH = height - top - bottom, plotW = width - left - right;
  const y = (v) => top + plotH - (v * plotH) / highPct;
  for (let i = 0; i <= 4; i++) {
    const v = (highPct * i) / 4;
    svg.appendChild(svgEl("line", { x1: left, x2: width - right, y1: y(v), y2: y(v), stroke: "#c9ced6" }));
    svg.appendChild(svgEl("text", { x: left - 6, y: y(v) + 4, "text-anchor": "end" }, `${Math.round(v)} %`));
  }
  const slot = plotW / Math.max(1, hours.length);
  const bars = svgEl("g", { class: "dbl-bars" });
  hours.forEach((row, i) => {
    const x = left + i * slot;
    [["expected", row.cumulative_expected_hours, "#7f8fa6", 0.1], ["actual", row.cumulative_actual_hours, "#0b4f8a", 0.5]]
      .forEach(([kind, value, colour, offset]) => {
        const bar = svgEl("rect", { x: x + slot * offset, width: slot * 0.4, y: y(pct(value)),
          height: Math.max(0, y(0) - y(pct(value))), fill: colour, "data-kind": kind });
        bar.appendChild(svgEl("title", {}, `${texts.unit(row.unit)}: ${texts[kind]} ${pct(value).toFixed(0)} %`));
        bars.appendChild(bar);
      });
    svg.appendChild(svgEl("text", { x: x + slot / 2, y: height - bottom + 16, "text-anchor": "middle" }, texts.unit(row.unit)));
  });
  svg.appendChild(bars);
  // Progression on the right axis, over the same units by date.
  const line = progression[0];
  if (line && hours.length) {
    const all = [...line.expected, ...line.actual].map((p) => p.value);
    const high = niceMax(Math.max(1, ...all));
    const yr = (v) => top + plotH - (v * plotH) / high;
    for (let i = 0; i <= 4; i++) {
      const v = (high * i) / 4;
      svg.appendChild(svgEl("text", { x: width - right + 6, y: yr(v) + 4 }, String(Math.round(v * 10) / 10)));
    }
    // Dates run from the first unit's start to the last checkpoint or measurement, across the plot.
    const days = [...hours.map((r) => r.start), ...line.expected.map((p) => p.on), ...line.actual.map((p) => p.on)]
      .map((d) => Date.parse(d || "")).filter((d) => !Number.isNaN(d));
    const first = Math.min(...days), spanDays = Math.max(1, (Math.max(...days) - first) / 86400000);
    const xd = (on) => left + slot * 0.5 + ((Date.parse(on) - first) / 86400000) * ((plotW - slot) / spanDays);
    [["expected", line.expected, "#7a4d00", "6 4"], ["actual", line.actual, "#1d6b32", ""]].forEach(([kind, points, colour, dash]) => {
      if (!points.length) return;
      const d = points.map((p, i) => `${i ? "L" : "M"}${xd(p.on).toFixed(1)},${yr(p.value).toFixed(1)}`).join(" ");
      svg.appendChild(svgEl("path", { d, fill: "none", stroke: colour, "stroke-width": 2.5, "stroke-dasharray": dash,
        class: `progression-${kind}` }));
      points.forEach((p) => {
        const dot = svgEl("circle", { cx: xd(p.on), cy: yr(p.value), r: 3.5, fill: colour });
        dot.appendChild(svgEl("title", {}, `${p.on}: ${p.value}`));
        svg.appendChild(dot);
      });
    });
    svg.appendChild(svgEl("text", { x: width - 4, y: top - 6, "text-anchor": "end" }, line.instrument));
  }
  return svg;
}

window.charts = { sparkline, barChart, doubleBottomLineChart };
