/* The dashboard pages. Every request goes to the dashboard's own host: /api/<service>/... is
   forwarded by the dashboard with the logged-in user's token, so the services enforce the scope. */
"use strict";

const TEXTS = {
  da: {
    skip: "Spring til indhold", menu: "Hovedmenu", logout: "Log ud", other_lang: "English",
    nav_kpis: "Nøgletal", nav_alerts: "Advarsler", nav_course: "Forløb", nav_benchmark: "Sammenligning",
    kinds: { process: "Procesindikatorer", outcome: "Outcomeindikatorer", economy: "Økonomiindikatorer", structure: "Strukturindikatorer" },
    roles: { team_leader: "teamleder", manager: "leder", support_worker: "støttemedarbejder" },
    municipality: "Kommune", team: "Team", all_teams: "Hele kommunen", method: "Metode",
    overview_title: "Nøgletal", overview_intro: "Seneste måned mod måltal og forrige måned; kurven viser de sidste 12 måneder.",
    target: "Måltal", no_target: "intet måltal", change: "Ændring siden forrige periode", no_value: "–",
    loading: "Henter …", failed: "Kunne ikke hente data", forbidden: "Din rolle har ikke adgang til dette.",
    definition: "Definition", unit: "Enhed", kind: "Type", series: "Udvikling pr. måned", period: "Periode", value: "Værdi",
    previous: "Forrige", breakdown: "Fordelt på team og metode (seneste 12 måneder)", export: "Eksport",
    export_csv: "Hent CSV", export_xlsx: "Hent Excel (XLSX)", export_all: "Alle nøgletal i én Excel-fil",
    benchmark_link: "Sammenlign med andre kommuner",
    alerts_title: "Advarsler", state: "Tilstand",
    states: { open: "Åbne", acknowledged: "Kvitterede", snoozed: "Udsatte", resolved: "Løste" },
    rule: "Regel", severity: "Alvor", severities: { critical: "kritisk", warning: "advarsel", info: "info" },
    subject: "Gælder", raised: "Rejst", actions: "Handling", acknowledge: "Kvittér", snooze: "Udsæt til",
    snooze_button: "Udsæt", resolve: "Løs", resolve_note: "Begrundelse", no_alerts: "Ingen advarsler.",
    acknowledged_msg: "Advarslen er kvitteret.", snoozed_msg: "Advarslen er udsat.", resolved_msg: "Advarslen er løst.",
    note_required: "Skriv en begrundelse for at løse advarslen.",
    course_title: "Forløb", course_id: "Forløbs-id", show: "Vis", citizen: "Borger",
    dbl_title: "Dobbelt bundlinje", dbl_desc: "Søjler: forventede og faktiske timer akkumuleret, i % af de afsatte timer. Linjer: forventet og faktisk progression.",
    expected: "Forventet", actual: "Faktisk", expected_hours: "Forventede timer", actual_hours: "Faktiske timer",
    cum_expected: "Akk. forventet", cum_actual: "Akk. faktisk", share_used: "Andel brugt",
    progression: "Progression", hours_set_aside: "Afsatte timer i alt",
    history: "Hændelser i forløbet", effective: "Gælder fra", recorded: "Registreret", by: "Af", fact: "Hændelse",
    phase: (p) => ({ contact: "Kontaktfase", "1": "Fase 1", "2": "Fase 2", "3": "Fase 3" }[p] || `Fase ${p}`),
    benchmark_title: "Sammenligning med andre kommuner", kpi: "Nøgletal", own: "egen kommune",
    suppressed: "Skjult (færre end 5 borgere)", citizens: "Borgere", course_hint: "Åbn et forløb fra en advarsel, eller skriv dets id.",
    target_line: "måltal",
    units: { share: "andel", courses: "forløb", citizens: "borgere", days: "dage", hours: "timer", DKK: "kr.", "bed-days": "overnatninger", evictions: "udsættelser", homes: "boliger",
             "contacts per citizen-week": "kontakter pr. borger-uge", "courses per worker": "forløb pr. medarbejder" },
  },
  en: {
    skip: "Skip to content", menu: "Main menu", logout: "Log out", other_lang: "Dansk",
    nav_kpis: "Key figures", nav_alerts: "Alerts", nav_course: "Course", nav_benchmark: "Benchmark",
    kinds: { process: "Process indicators", outcome: "Outcome indicators", economy: "Economy indicators", structure: "Structure indicators" },
    roles: { team_leader: "team leader", manager: "manager", support_worker: "support worker" },
    municipality: "Municipality", team: "Team", all_teams: "Whole municipality", method: "Method",
    overview_title: "Key figures", overview_intro: "Latest month against the target and the month before; the line shows the last 12 months.",
    target: "Target", no_target: "no target", change: "Change since previous period", no_value: "–",
    loading: "Loading …", failed: "Could not load data", forbidden: "Your role has no access to this.",
    definition: "Definition", unit: "Unit", kind: "Kind", series: "By month", period: "Period", value: "Value",
    previous: "Previous", breakdown: "By team and method (last 12 months)", export: "Export",
    export_csv: "Download CSV", export_xlsx: "Download Excel (XLSX)", export_all: "All key figures in one Excel file",
    benchmark_link: "Compare with other municipalities",
    alerts_title: "Alerts", state: "State",
    states: { open: "Open", acknowledged: "Acknowledged", snoozed: "Snoozed", resolved: "Resolved" },
    rule: "Rule", severity: "Severity", severities: { critical: "critical", warning: "warning", info: "info" },
    subject: "Subject", raised: "Raised", actions: "Action", acknowledge: "Acknowledge", snooze: "Snooze until",
    snooze_button: "Snooze", resolve: "Resolve", resolve_note: "Reason", no_alerts: "No alerts.",
    acknowledged_msg: "The alert is acknowledged.", snoozed_msg: "The alert is snoozed.", resolved_msg: "The alert is resolved.",
    note_required: "Give a reason to resolve the alert.",
    course_title: "Course", course_id: "Course id", show: "Show", citizen: "Citizen",
    dbl_title: "Double bottom line", dbl_desc: "Bars: expected and actual hours, cumulative, in % of the hours set aside. Lines: expected and actual progression.",
    expected: "Expected", actual: "Actual", expected_hours: "Expected hours", actual_hours: "Actual hours",
    cum_expected: "Cum. expected", cum_actual: "Cum. actual", share_used: "Share used",
    progression: "Progression", hours_set_aside: "Hours set aside in all",
    history: "Events of the course", effective: "Effective", recorded: "Recorded", by: "By", fact: "Event",
    phase: (p) => ({ contact: "Contact phase", "1": "Phase 1", "2": "Phase 2", "3": "Phase 3" }[p] || `Phase ${p}`),
    benchmark_title: "Benchmark across municipalities", kpi: "Key figure", own: "own municipality",
    suppressed: "Hidden (fewer than 5 citizens)", citizens: "Citizens", course_hint: "Open a course from an alert, or type its id.",
    target_line: "target",
  },
};
const KINDS = ["process", "outcome", "economy", "structure"];
const METHODS = ["CTI", "ICM", "ACT", "SEL85"];

const state = { lang: readLang(), session: null, catalogue: null, rules: null };
const t = () => TEXTS[state.lang];

function readLang() {
  const match = document.cookie.match(/(?:^|; )casetrack_lang=(da|en)/);
  return match ? match[1] : "da";
}

/* --- small helpers ------------------------------------------------------------------------ */

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.appendChild(typeof child === "string" || typeof child === "number" ? document.createTextNode(String(child)) : child);
  }
  return el;
}

class ApiFailure extends Error {
  constructor(status, body) {
    super((body && body.error && (state.lang === "da" ? body.error.message_da : body.error.message)) || `HTTP ${status}`);
    this.status = status;
    this.reason = body && body.error && body.error.reason;
  }
}

async function api(service, path, options) {
  const response = await fetch(`/api/${service}/${path}`, { credentials: "same-origin", ...(options || {}) });
  const body = (response.headers.get("content-type") || "").includes("json") ? await response.json() : null;
  if (response.status === 401) { window.location.assign("/login"); throw new ApiFailure(401, body); }
  if (!response.ok) throw new ApiFailure(response.status, body);
  return body;
}

function post(service, path, body) {
  return api(service, path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
}

function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined && v !== "") q.set(k, v);
  return q.toString();
}

function iso(day) {
  return `${day.getFullYear()}-${String(day.getMonth() + 1).padStart(2, "0")}-${String(day.getDate()).padStart(2, "0")}`;
}

function lastTwelveMonths() {
  const today = new Date();
  return { from: iso(new Date(today.getFullYear(), today.getMonth() - 11, 1)), to: iso(today) };
}

function locale() { return state.lang === "da" ? "da-DK" : "en-GB"; }

function formatValue(value, unit) {
  if (value === null || value === undefined) return t().no_value;
  if (unit === "share") return new Intl.NumberFormat(locale(), { style: "percent", maximumFractionDigits: 1 }).format(value);
  return new Intl.NumberFormat(locale(), { maximumFractionDigits: 2 }).format(value);
}

function formatChange(change, unit) {
  if (change === null || change === undefined) return t().no_value;
  const sign = change > 0 ? "+" : "";
  if (unit === "share") return `${sign}${new Intl.NumberFormat(locale(), { maximumFractionDigits: 1 }).format(change * 100)} %-point`;
  return sign + formatValue(change, unit);
}

function kpiName(kpi) { return state.lang === "da" ? kpi.name_da : kpi.name_en; }

function setStatus(text, isError) {
  const status = document.getElementById("status");
  status.textContent = text || "";
  status.className = isError ? "status error" : "status";
}

function failureText(error) {
  return error.status === 403 ? t().forbidden : `${t().failed}: ${error.message}`;
}

/* Runs a few requests at a time: the KPI overview asks for every KPI. */
async function inBatches(items, size, work) {
  const results = new Array(items.length);
  let next = 0;
  async function worker() {
    while (next < items.length) { const i = next++; results[i] = await work(items[i]); }
  }
  await Promise.all(Array.from({ length: Math.min(size, items.length) }, worker));
  return results;
}

async function catalogue() {
  if (!state.catalogue) state.catalogue = (await api("projections", "v1/kpis")).kpis;
  return state.catalogue;
}

/* --- pages -------------------------------------------------------------------------------- */

function teamScope() {
  // A team leader looks at the team; a manager at the whole municipality unless a team is chosen.
  const chosen = new URLSearchParams(location.hash.split("?")[1] || "").get("team");
  return state.session.role === "team_leader" || state.session.role === "support_worker" ? state.session.team : chosen;
}

function teamPicker(route) {
  if (state.session.role !== "manager") return h("p", { class: "meta" }, `${t().team}: ${state.session.team}`);
  const select = h("select", { id: "team-select", onchange: (e) => { location.hash = `${route}?${query({ team: e.target.value })}`; } },
    h("option", { value: "" }, t().all_teams),
    state.session.teams.map((team) => h("option", { value: team, selected: team === teamScope() }, team)));
  return h("div", { class: "toolbar" }, h("label", { for: "team-select" }, t().team, select));
}

async function overviewPage(main) {
  const kpis = await catalogue();
  const window_ = lastTwelveMonths();
  const team = teamScope();
  main.append(h("h1", {}, t().overview_title), h("p", { class: "meta" }, t().overview_intro), teamPicker("#/kpis"));
  const sections = {};
  for (const kind of KINDS) {
    const grid = h("div", { class: "grid", id: `kind-${kind}` });
    sections[kind] = grid;
    main.append(h("section", { "aria-labelledby": `heading-${kind}` }, h("h2", { id: `heading-${kind}` }, t().kinds[kind]), grid));
  }
  await inBatches(kpis, 4, async (kpi) => {
    const source = `v1/kpis/${kpi.id}?${query({ municipality: state.session.municipality, period: "month", ...window_, team })}`;
    const card = h("article", { class: "card kpi-card", "data-kpi": kpi.id, "data-source": source, "aria-busy": "true" },
      h("h3", {}, h("a", { href: `#/kpi/${kpi.id}` }, `${kpi.id} ${kpiName(kpi)}`)), h("p", { class: "meta" }, t().loading));
    sections[kpi.kind].append(card);
    try {
      const result = await api("projections", source);
      const series = result.series || [];
      const latest = series[series.length - 1] || {};
      const change = latest.previous ? latest.previous.change : null;
      card.replaceChildren(
        h("h3", {}, h("a", { href: `#/kpi/${kpi.id}` }, `${kpi.id} ${kpiName(kpi)}`)),
        h("div", { class: "value", "data-value": latest.value ?? "" }, formatValue(latest.value, kpi.unit)),
        h("div", { class: "meta" }, `${latest.period || ""}`),
        window.charts.sparkline(series.map((p) => p.value), `${kpiName(kpi)}: ${series.map((p) => `${p.period} ${formatValue(p.value, kpi.unit)}`).join(", ")}`),
        h("div", { class: "meta target" }, `${t().target}: ${latest.target ? formatValue(latest.target.value, kpi.unit) : t().no_target}`),
        // Up or down, not good or bad: for some figures (bed-days, waiting time) less is better.
        h("div", { class: "meta change" }, `${t().change}: ${change > 0 ? "▲ " : change < 0 ? "▼ " : ""}${formatChange(change, kpi.unit)}`));
    } catch (error) {
      card.replaceChildren(h("h3", {}, `${kpi.id} ${kpiName(kpi)}`), h("p", { class: "error" }, failureText(error)));
    }
    card.removeAttribute("aria-busy");
  });
}

async function kpiPage(main, kpiId) {
  const kpis = await catalogue();
  const kpi = kpis.find((k) => k.id === kpiId);
  if (!kpi) { main.append(h("h1", {}, kpiId), h("p", { class: "error" }, t().failed)); return; }
  const window_ = lastTwelveMonths();
  const municipality = state.session.municipality;
  const team = teamScope();
  main.append(h("h1", {}, `${kpi.id} ${kpiName(kpi)}`), teamPicker(`#/kpi/${kpi.id}`),
    h("dl", { class: "definition" },
      h("dt", {}, t().definition), h("dd", { id: "kpi-definition" }, state.lang === "da" ? kpi.definition_da : kpi.definition_en),
      h("dt", {}, t().kind), h("dd", {}, t().kinds[kpi.kind]),
      h("dt", {}, t().unit), h("dd", {}, (t().units || {})[kpi.unit] || kpi.unit)));
  const base = { municipality, period: "month", ...window_, team };
  const exportBar = h("div", { class: "toolbar", role: "group", "aria-label": t().export },
    h("a", { href: `/api/projections/v1/kpis/${kpi.id}?${query({ ...base, format: "csv" })}`, id: "export-csv", download: "" }, t().export_csv),
    h("a", { href: `/api/projections/v1/kpis/${kpi.id}?${query({ ...base, format: "xlsx" })}`, id: "export-xlsx", download: "" }, t().export_xlsx),
    h("a", { href: `/api/projections/v1/kpis/export?${query({ ...base, format: "xlsx" })}`, id: "export-all" }, t().export_all),
    h("a", { href: `#/benchmark/${kpi.id}` }, t().benchmark_link));
  main.append(h("h2", {}, t().export), exportBar);
  const seriesSection = h("section", { "aria-labelledby": "series-heading" }, h("h2", { id: "series-heading" }, t().series));
  main.append(seriesSection);
  const result = await api("projections", `v1/kpis/${kpi.id}?${query(base)}`);
  const series = result.series || [];
  const target = series.length && series[series.length - 1].target ? series[series.length - 1].target.value : null;
  seriesSection.append(window.charts.barChart(series.map((p) => ({ label: p.period, value: p.value })),
    { label: `${kpiName(kpi)} – ${t().series}`, target, targetLabel: t().target_line, format: (v) => formatValue(v, kpi.unit) }));
  seriesSection.append(h("div", { class: "table-wrap" }, h("table", { id: "series-table" },
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t().period), h("th", { scope: "col", class: "num" }, t().value),
      h("th", { scope: "col", class: "num" }, t().previous), h("th", { scope: "col", class: "num" }, t().target))),
    h("tbody", {}, series.map((p) => h("tr", {}, h("th", { scope: "row" }, p.period),
      h("td", { class: "num", "data-value": p.value ?? "" }, formatValue(p.value, kpi.unit)),
      h("td", { class: "num" }, formatValue(p.previous && p.previous.value, kpi.unit)),
      h("td", { class: "num" }, p.target ? formatValue(p.target.value, kpi.unit) : t().no_value)))))));
  const rows = [...(team ? [] : state.session.teams.map((x) => ({ label: `${t().team} ${x}`, params: { team: x } }))),
    ...METHODS.map((m) => ({ label: `${t().method} ${m}`, params: { method: m, team } }))];
  const tbody = h("tbody");
  main.append(h("section", { "aria-labelledby": "breakdown-heading" }, h("h2", { id: "breakdown-heading" }, t().breakdown),
    h("div", { class: "table-wrap" }, h("table", { id: "breakdown-table" },
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, ""), h("th", { scope: "col", class: "num" }, t().value))), tbody))));
  const values = await inBatches(rows, 4, (row) =>
    api("projections", `v1/kpis/${kpi.id}?${query({ municipality, ...window_, ...row.params })}`).then((r) => r.value, () => null));
  rows.forEach((row, i) => tbody.append(h("tr", {}, h("th", { scope: "row" }, row.label),
    h("td", { class: "num" }, formatValue(values[i], kpi.unit)))));
}

async function ruleNames() {
  if (!state.rules) {
    state.rules = {};
    for (const rule of (await api("alerts", "v1/rules")).rules) state.rules[rule.rule] = rule;
  }
  return state.rules;
}

function detailsText(details) {
  return Object.entries(details || {}).filter(([, v]) => v !== null && v !== "").map(([k, v]) => `${k.replace(/_/g, " ")}: ${v}`).join(" · ");
}

function subjectLink(alert) {
  if (alert.subject_type === "course") return h("a", { href: `#/course/${encodeURIComponent(alert.subject_id)}` }, `${t().course_title} ${alert.subject_id}`);
  return `${alert.subject_type} ${alert.subject_id}`;
}

async function alertsPage(main) {
  const params = new URLSearchParams(location.hash.split("?")[1] || "");
  const alertState = params.get("state") || "open";
  const team = teamScope();
  const rules = await ruleNames();
  main.append(h("h1", {}, t().alerts_title));
  const stateSelect = h("select", { id: "state-select", onchange: (e) => { location.hash = `#/alerts?${query({ state: e.target.value, team })}`; } },
    Object.entries(t().states).map(([value, label]) => h("option", { value, selected: value === alertState }, label)));
  main.append(h("div", { class: "toolbar" }, h("label", { for: "state-select" }, t().state, stateSelect)));
  if (state.session.role === "manager") main.append(teamPicker(`#/alerts`));
  const result = await api("alerts", `v1/alerts?${query({ municipality: state.session.municipality, state: alertState, team })}`);
  if (!result.alerts.length) { main.append(h("p", { id: "no-alerts" }, t().no_alerts)); return; }
  const tomorrowPlus = new Date(); tomorrowPlus.setDate(tomorrowPlus.getDate() + 7);
  const tbody = h("tbody");
  for (const alert of result.alerts) {
    const rule = rules[alert.rule];
    const actions = h("div", { class: "actions" });
    const act = async (kind, body, message) => {
      try {
        await post("alerts", `v1/alerts/${alert.id}/${kind}`, body);
        setStatus(message);
        await route();
      } catch (error) { setStatus(failureText(error), true); }
    };
    if (alert.state !== "resolved") {
      if (alert.state !== "acknowledged") {
        actions.append(h("button", { type: "button", class: "ack", "data-alert": alert.id,
          onclick: () => act("acknowledge", {}, t().acknowledged_msg) }, t().acknowledge));
      }
      const dateId = `snooze-${alert.id}`;
      const dateInput = h("input", { type: "date", id: dateId, value: iso(tomorrowPlus), min: iso(new Date(Date.now() + 86400000)) });
      actions.append(h("form", { class: "snooze", onsubmit: (e) => { e.preventDefault(); act("snooze", { until: dateInput.value }, t().snoozed_msg); } },
        h("label", { for: dateId }, t().snooze), dateInput, h("button", { type: "submit", class: "secondary" }, t().snooze_button)));
      const noteId = `note-${alert.id}`;
      const note = h("input", { id: noteId, required: true, maxlength: 2000 });
      actions.append(h("form", { class: "resolve", onsubmit: (e) => {
        e.preventDefault();
        if (!note.value.trim()) { setStatus(t().note_required, true); return; }
        act("resolve", { note: note.value.trim() }, t().resolved_msg);
      } }, h("label", { for: noteId }, t().resolve_note), note, h("button", { type: "submit", class: "secondary" }, t().resolve)));
    }
    tbody.append(h("tr", { "data-alert": alert.id, "data-rule": alert.rule },
      h("td", {}, rule ? (state.lang === "da" ? rule.name_da : rule.name_en) : alert.rule,
        h("div", { class: "meta details" }, detailsText(alert.details))),
      h("td", { class: `sev-${alert.severity}` }, t().severities[alert.severity] || alert.severity),
      h("td", {}, subjectLink(alert)),
      h("td", {}, alert.team),
      h("td", {}, new Date(alert.raised_at).toLocaleString(locale())),
      h("td", {}, actions)));
  }
  main.append(h("div", { class: "table-wrap" }, h("table", { id: "alerts-table" },
    h("caption", { class: "meta" }, `${t().states[alertState]}: ${result.alerts.length}`),
    h("thead", {}, h("tr", {}, [t().rule, t().severity, t().subject, t().team, t().raised, t().actions].map((c) => h("th", { scope: "col" }, c)))),
    tbody)));
}

function unitLabel(unit) {
  return unit.startsWith("phase_") ? t().phase(unit.slice(6)) : unit;
}

async function coursePage(main, courseId) {
  main.append(h("h1", {}, t().course_title));
  const input = h("input", { id: "course-input", value: courseId || "", required: true });
  main.append(h("form", { class: "toolbar", onsubmit: (e) => { e.preventDefault(); location.hash = `#/course/${encodeURIComponent(input.value.trim())}`; } },
    h("label", { for: "course-input" }, t().course_id, input), h("button", { type: "submit" }, t().show)));
  if (!courseId) { main.append(h("p", { class: "meta" }, t().course_hint)); return; }
  const municipality = state.session.municipality;
  const dbl = await api("projections", `v1/courses/${encodeURIComponent(courseId)}/double-bottom-line?${query({ municipality })}`);
  const setAside = dbl.hours.length ? dbl.hours[dbl.hours.length - 1].cumulative_expected_hours : 0;
  main.append(h("p", {}, `${t().citizen}: ${dbl.citizen} · ${t().method}: ${dbl.method} · ${t().hours_set_aside}: ${formatValue(setAside)}`));
  const section = h("section", { "aria-labelledby": "dbl-heading", id: "double-bottom-line" }, h("h2", { id: "dbl-heading" }, t().dbl_title));
  section.append(h("p", { class: "meta" }, t().dbl_desc));
  section.append(h("div", { class: "legend" },
    h("span", {}, h("span", { class: "swatch expected" }), `${t().cum_expected} (%)`),
    h("span", {}, h("span", { class: "swatch actual" }), `${t().cum_actual} (%)`),
    h("span", {}, h("span", { class: "swatch line-expected" }), `${t().progression}: ${t().expected}`),
    h("span", {}, h("span", { class: "swatch line-actual" }), `${t().progression}: ${t().actual}`)));
  const texts = { label: `${t().dbl_title} – ${courseId}`, description: t().dbl_desc, expected: t().expected, actual: t().actual, unit: unitLabel };
  section.append(window.charts.doubleBottomLineChart(dbl.hours, dbl.progression, texts));
  section.append(h("div", { class: "table-wrap" }, h("table", { id: "hours-table" },
    h("thead", {}, h("tr", {}, [t().period, t().expected_hours, t().actual_hours, t().cum_expected, t().cum_actual, t().share_used]
      .map((c, i) => h("th", { scope: "col", class: i ? "num" : "" }, c)))),
    h("tbody", {}, dbl.hours.map((r) => h("tr", {}, h("th", { scope: "row" }, unitLabel(r.unit)),
      h("td", { class: "num" }, formatValue(r.expected_hours)), h("td", { class: "num" }, formatValue(r.actual_hours)),
      h("td", { class: "num" }, formatValue(r.cumulative_expected_hours)), h("td", { class: "num" }, formatValue(r.cumulative_actual_hours)),
      h("td", { class: "num" }, formatValue(r.share_used, "share"))))))));
  for (const line of dbl.progression) {
    section.append(h("h3", {}, `${t().progression}: ${line.instrument}`), h("div", { class: "table-wrap" }, h("table", {},
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, ""), h("th", { scope: "col" }, t().effective), h("th", { scope: "col", class: "num" }, t().value))),
      h("tbody", {}, [...line.expected.map((p) => [t().expected, p]), ...line.actual.map((p) => [t().actual, p])]
        .map(([kind, p]) => h("tr", {}, h("td", {}, kind), h("td", {}, p.on), h("td", { class: "num" }, formatValue(p.value))))))));
  }
  main.append(section);
  const history = h("section", { "aria-labelledby": "history-heading", id: "course-history" }, h("h2", { id: "history-heading" }, t().history));
  main.append(history);
  try {
    const events = await api("registration", `v1/citizens/${encodeURIComponent(dbl.citizen)}/courses/${encodeURIComponent(courseId)}/history?${query({ municipality })}`);
    history.append(h("div", { class: "table-wrap" }, h("table", { id: "history-table" },
      h("thead", {}, h("tr", {}, [t().effective, t().fact, t().recorded, t().by].map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, events.events.map((e) => h("tr", {}, h("td", {}, e.fact.effective_date || ""), h("td", {}, e.fact.type),
        h("td", {}, new Date(e.recorded_at).toLocaleString(locale())), h("td", {}, e.recorded_by)))))));
  } catch (error) {
    history.append(h("p", { class: "error" }, failureText(error)));
  }
}

async function benchmarkPage(main, kpiId) {
  const kpis = await catalogue();
  const chosen = kpis.find((k) => k.id === kpiId) || kpis[0];
  main.append(h("h1", {}, t().benchmark_title));
  const select = h("select", { id: "benchmark-kpi", onchange: (e) => { location.hash = `#/benchmark/${e.target.value}`; } },
    kpis.map((k) => h("option", { value: k.id, selected: k.id === chosen.id }, `${k.id} ${kpiName(k)}`)));
  main.append(h("div", { class: "toolbar" }, h("label", { for: "benchmark-kpi" }, t().kpi, select)));
  const result = await api("projections", `v1/kpis/${chosen.id}/benchmark?${query({ municipality: state.session.municipality, ...lastTwelveMonths() })}`);
  const shown = result.municipalities.filter((m) => !m.suppressed);
  main.append(window.charts.barChart(shown.map((m) => ({ label: m.municipality, value: m.value })),
    { label: `${kpiName(chosen)} – ${t().benchmark_title}`, target: null, format: (v) => formatValue(v, chosen.unit) }));
  main.append(h("div", { class: "table-wrap" }, h("table", { id: "benchmark-table" },
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t().municipality), h("th", { scope: "col", class: "num" }, t().value),
      h("th", { scope: "col", class: "num" }, t().citizens))),
    h("tbody", {}, result.municipalities.map((m) => h("tr", { class: m.own ? "own" : "", "data-municipality": m.municipality },
      h("th", { scope: "row" }, m.own ? `${m.municipality} (${t().own})` : m.municipality),
      m.suppressed ? h("td", { class: "suppressed", colspan: 2 }, t().suppressed)
        : [h("td", { class: "num" }, formatValue(m.value, chosen.unit)), h("td", { class: "num" }, m.citizens ?? t().no_value)]))))));
}

/* --- shell -------------------------------------------------------------------------------- */

const ROUTES = [
  ["#/kpis", "nav_kpis", (main) => overviewPage(main)],
  ["#/kpi/", null, (main, rest) => kpiPage(main, rest)],
  ["#/alerts", "nav_alerts", (main) => alertsPage(main)],
  ["#/course", "nav_course", (main, rest) => coursePage(main, decodeURIComponent(rest.replace(/^\//, "")))],
  ["#/benchmark", "nav_benchmark", (main, rest) => benchmarkPage(main, rest.replace(/^\//, ""))],
];

function drawShell() {
  document.documentElement.lang = state.lang;
  document.getElementById("skip-link").textContent = t().skip;
  const nav = document.getElementById("nav");
  nav.setAttribute("aria-label", t().menu);
  const current = location.hash.split("?")[0] || "#/kpis";
  nav.replaceChildren(...ROUTES.filter(([, label]) => label).map(([prefix, label]) =>
    h("a", { href: prefix, id: `nav-${label.slice(4)}`, "aria-current": current.startsWith(prefix) || (prefix === "#/kpis" && current.startsWith("#/kpi/")) ? "page" : null }, t()[label])));
  const s = state.session;
  document.getElementById("who").textContent = `${s.name} · ${t().roles[s.role] || s.role} · ${t().municipality} ${s.municipality}${s.team ? ` · ${s.team}` : ""}`;
  document.getElementById("lang-toggle").textContent = t().other_lang;
  document.getElementById("lang-toggle").setAttribute("lang", state.lang === "da" ? "en" : "da");
  document.getElementById("logout").textContent = t().logout;
}

let routing = 0;
async function route() {
  const mine = ++routing;
  drawShell();
  const main = document.getElementById("main");
  main.removeAttribute("data-ready");
  main.replaceChildren();
  const hash = location.hash.split("?")[0] || "#/kpis";
  const found = ROUTES.find(([prefix]) => hash.startsWith(prefix)) || ROUTES[0];
  const view = document.createElement("div");
  main.append(view);
  document.title = `casetrack – ${found[1] ? t()[found[1]] : t().nav_kpis}`;
  try {
    await found[2](view, hash.slice(found[0].length));
    if (mine === routing) main.setAttribute("data-ready", "true");
  } catch (error) {
    if (mine === routing) view.append(h("p", { class: "error", role: "alert" }, failureText(error)));
  }
}

async function start() {
  state.session = await (await fetch("/api/session", { credentials: "same-origin" })).json();
  if (!state.session.role) { window.location.assign("/login"); return; }
  document.getElementById("lang-toggle").addEventListener("click", () => {
    state.lang = state.lang === "da" ? "en" : "da";
    document.cookie = `casetrack_lang=${state.lang}; path=/; max-age=31536000; samesite=strict`;
    route();
  });
  window.addEventListener("hashchange", () => { setStatus(""); document.getElementById("main").removeAttribute("data-ready"); route(); });
  await route();
}

start();
