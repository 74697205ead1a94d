/* The course page's forms (issue 16): a support worker (or the team leader) records a contact, a
   time plan, the expected progression, a measurement and a follow-up, each as one fact posted
   through the dashboard's proxy to registration with an Idempotency-Key. The texts are in app.js's
   tables (t().forms); the page helpers (h, t, api, label, setStatus, formatValue, route) are app.js's.

   The instruments are scored here exactly as contracts/instruments.py scores them, and their
   answers checked with the same rules (tests/test_forms_scoring.py runs both over every
   instrument); this part needs nothing from app.js, so a test can load it alone. */
(() => {
"use strict";

const LIKERT_DIMENSIONS = ["bokompetence", "oekonomi", "stabil_livsstil", "mentale_vanskeligheder", "rusmiddelforbrug"];
const LIKERT_REVERSED = ["mentale_vanskeligheder", "rusmiddelforbrug"];
const RECOVERY_STAR_AREAS = [
  "mental_health", "physical_health_self_care", "living_skills", "social_networks", "work",
  "relationships", "addictive_behaviour", "responsibilities", "identity_self_esteem", "trust_hope",
];
/* contracts/instruments.py SCALES: a count of ordered items, or named items (any non-empty subset). */
const SCALES = {
  WHO5: { items: 5, low: 0, high: 5 },
  UCLA3: { items: 3, low: 1, high: 3 },
  ORS: { items: 4, low: 0, high: 10 },
  SRS: { items: 4, low: 0, high: 10 },
  LIKERT: { items: LIKERT_DIMENSIONS, low: 1, high: 5 },
  RECOVERY_STAR: { items: RECOVERY_STAR_AREAS, low: 1, high: 10 },
};
const INSTRUMENTS = Object.keys(SCALES);

/* answer_problems: what is wrong with these answers; empty when they are valid (the API's words). */
function answerProblems(instrument, answers) {
  const scale = SCALES[instrument];
  let values;
  if (typeof scale.items === "number") {
    if (!Array.isArray(answers)) return [`${instrument} takes a list of ${scale.items} item answers`];
    if (answers.length !== scale.items) return [`${instrument} takes exactly ${scale.items} item answers, got ${answers.length}`];
    values = answers.map((value, i) => [String(i + 1), value]);
  } else {
    if (answers === null || typeof answers !== "object" || Array.isArray(answers) || !Object.keys(answers).length) {
      return [`${instrument} takes answers by name: ${scale.items.join(", ")}`];
    }
    const unknown = Object.keys(answers).filter((k) => !scale.items.includes(k)).sort();
    if (unknown.length) return [`unknown ${instrument} item(s): ${unknown.join(", ")}`];
    values = Object.entries(answers);
  }
  return values.filter(([, v]) => !(scale.low <= v && v <= scale.high)).map(([k, v]) => `item ${k} = ${v} is outside ${scale.low}-${scale.high}`);
}

/* score: WHO-5 raw and index (raw x 4), sums for UCLA-3/ORS/SRS, the Likert item values with the
   reverse items turned (6 - v) and the Recovery Star's item values. */
function instrumentScore(instrument, answers) {
  const sum = (xs) => xs.reduce((a, b) => a + b, 0);
  if (instrument === "WHO5") { const raw = sum(answers); return { raw, index: raw * 4 }; }
  if (["UCLA3", "ORS", "SRS"].includes(instrument)) return { total: sum(answers) };
  if (instrument === "LIKERT") return Object.fromEntries(Object.entries(answers).map(([k, v]) => [k, LIKERT_REVERSED.includes(k) ? 6 - v : v]));
  return Object.fromEntries(Object.entries(answers).map(([k, v]) => [k, v]));
}

/* --- the forms ------------------------------------------------------------------------------ */

function newKey() {
  return (crypto.randomUUID && crypto.randomUUID()) || `${Date.now()}-${Math.random().toString(16).slice(2)}`;
}

function todayIso() { return iso(new Date()); }

/* Posts one fact. The key stays the same until an answer came (a retry after a lost answer stores
   nothing twice); after any answer the next submit is a new request with a new key. */
async function postFact(fact, keyHolder) {
  const response = await fetch("/api/registration/v1/facts", {
    method: "POST",
    credentials: "same-origin",
    headers: { "content-type": "application/json", "idempotency-key": keyHolder.key },
    body: JSON.stringify(fact),
  });
  const body = (response.headers.get("content-type") || "").includes("json") ? await response.json() : null;
  keyHolder.key = newKey();
  if (response.status === 401) window.location.assign("/login");
  return { status: response.status, body };
}

/* After a stored fact: wait until projections has applied it, then draw the page again. */
async function afterStored(receipt, message) {
  for (let i = 0; i < 50; i += 1) {
    try {
      const position = await api("projections", "v1/position");
      if (position.position >= receipt.position) break;
    } catch (error) { /* try again */ }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  await route();
  setStatus(message);
}

/* One form: its fields are kept as typed on any error; a 409 shows the rule's reason, a 422 marks
   the fields it names. `build()` gives the fact, or throws a message to show. */
function factForm(id, title, fields, build, fieldNames) {
  const f = t().forms;
  const keyHolder = { key: newKey() };
  const message = h("p", { class: "form-message", role: "status", "aria-live": "polite", id: `${id}-message` });
  const button = h("button", { type: "submit", id: `${id}-submit` }, f.save);
  const form = h("form", { id, class: "fact-form", novalidate: true }, h("h3", {}, title), fields, h("div", { class: "form-actions" }, button), message);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    for (const marked of form.querySelectorAll("[aria-invalid]")) marked.removeAttribute("aria-invalid");
    for (const note of form.querySelectorAll(".field-error")) note.remove();
    message.className = "form-message";
    let fact;
    try { fact = build(); } catch (problem) { message.textContent = String(problem.message || problem); message.classList.add("error"); return; }
    button.disabled = true;
    message.textContent = f.saving;
    try {
      const answer = await postFact(fact, keyHolder);
      if (answer.status === 201) {
        message.textContent = f.saved;
        await afterStored(answer.body, `${f.saved}: ${label("facts", fact.type)}`);
        return;
      }
      const error = (answer.body && answer.body.error) || {};
      const words = (state.lang === "da" ? error.message_da : error.message) || `HTTP ${answer.status}`;
      message.classList.add("error");
      message.setAttribute("data-reason", error.reason || "");
      message.textContent = answer.status === 409 ? `${f.refused}: ${words}` : words;
      if (answer.status === 422) {
        for (const problem of error.fields || []) {
          const input = fieldFor(form, fieldNames, problem.field);
          if (!input) continue;
          input.setAttribute("aria-invalid", "true");
          input.insertAdjacentElement("afterend", h("span", { class: "field-error error" }, `${f.field_problem}: ${problem.problem}`));
        }
      }
    } catch (error) {
      // No answer (the connection dropped): the key stays, the next try may be the same request.
      message.classList.add("error");
      message.textContent = f.no_answer;
    } finally {
      button.disabled = false;
    }
  });
  return form;
}

/* The input a 422's field path names: its last part that is a field of the form (fact.answers.2 → answers). */
function fieldFor(form, fieldNames, path) {
  const parts = String(path || "").split(".").reverse();
  for (const part of parts) {
    if (fieldNames[part]) return form.querySelector(`#${fieldNames[part]}`);
  }
  return null;
}

function field(id, text, input) {
  input.id = id;
  return h("label", { for: id, class: "form-field" }, text, input);
}

function dateField(id) {
  return field(id, t().forms.date, h("input", { type: "date", value: todayIso(), required: true }));
}

function choices(name, legend, options, checked) {
  return h("fieldset", { class: "choices", id: `${name}-choices` }, h("legend", {}, legend),
    options.map(([value, text]) => h("label", { class: "choice" },
      h("input", { type: "radio", name, value, checked: value === checked, id: `${name}-${value}` }), text)));
}

function chosen(form, name) {
  const input = form.querySelector(`input[name="${name}"]:checked`);
  return input ? input.value : null;
}

function number(input) {
  const text = String(input.value).trim().replace(",", ".");
  return text === "" ? null : Number(text);
}

function contactForm(course) {
  const f = t().forms;
  const kinds = ["face_to_face", "phone_digital", "partners", "attempted", "cancelled_by_citizen"];
  const minutes = [15, 30, 45, 60, 90];
  const other = h("input", { type: "number", min: 0, max: 1440, step: 1, inputmode: "numeric" });
  const fields = [
    choices("contact-kind", f.contact_kind, kinds.map((k) => [k, label("ContactKind", k)]), "face_to_face"),
    choices("contact-minutes", f.minutes, minutes.map((m) => [String(m), `${m} min`]), null),
    field("contact-other-minutes", f.other_minutes, other),
    dateField("contact-date"),
  ];
  let form;
  form = factForm("contact-form", f.contact_title, fields, () => {
    const typed = number(other);
    const picked = chosen(form, "contact-minutes");
    const value = typed !== null ? typed : picked !== null ? Number(picked) : null;
    if (value === null) throw new Error(f.minutes_missing);
    return { ...course.fact, type: "ContactRecorded", effective_date: form.querySelector("#contact-date").value,
      minutes: value, kind: chosen(form, "contact-kind") };
  }, { minutes: "contact-other-minutes", effective_date: "contact-date", kind: "contact-kind-choices" });
  return form;
}

function timePlanForm(course) {
  const f = t().forms;
  const cti = course.method === "CTI";
  const unit = cti
    ? field("plan-phase", t().phase_col, h("select", {}, ["contact", "1", "2", "3"].map((p) => h("option", { value: p }, t().phase(p)))))
    : field("plan-month", t().month, h("input", { type: "month", value: todayIso().slice(0, 7), required: true }));
  const hours = h("input", { type: "number", min: 0, max: 10000, step: 0.5, inputmode: "decimal" });
  const hint = h("p", { class: "meta", id: "plan-median" });
  const fields = [unit, field("plan-hours", f.hours, hours), hint, dateField("plan-date")];
  const prefill = async () => {
    const phase = cti ? unit.querySelector("select").value : null;
    try {
      const found = await api("projections", `v1/time-plan-median?${query({ municipality: course.municipality, method: course.method, phase })}`);
      if (found.median_hours === null) { hint.textContent = f.no_median; return; }
      hint.textContent = `${f.median}: ${formatValue(found.median_hours)} ${t().units.hours} (${found.courses} ${t().units.courses})`;
      if (!hours.dataset.typed) hours.value = String(found.median_hours);
    } catch (error) { hint.textContent = f.no_median; }
  };
  hours.addEventListener("input", () => { hours.dataset.typed = "true"; });
  if (cti) unit.querySelector("select").addEventListener("change", prefill);
  prefill();
  return factForm("plan-form", f.plan_title, fields, () => {
    const expected = number(hours);
    if (expected === null) throw new Error(f.hours_missing);
    const fact = { ...course.fact, type: "TimePlanned", effective_date: document.getElementById("plan-date").value, expected_hours: expected };
    if (cti) fact.cti_phase = unit.querySelector("select").value;
    else fact.month = `${unit.querySelector("input").value}-01`;
    return fact;
  }, { expected_hours: "plan-hours", month: "plan-month", cti_phase: "plan-phase", effective_date: "plan-date" });
}

function instrumentSelect(id) {
  return field(id, f_().instrument, h("select", {}, INSTRUMENTS.map((i) => h("option", { value: i }, label("Instrument", i)))));
}

function f_() { return t().forms; }

function progressionForm(course) {
  const f = t().forms;
  const instrument = instrumentSelect("progression-instrument");
  const rows = h("div", { id: "progression-rows" });
  const addRow = () => {
    const n = rows.children.length + 1;
    rows.append(h("div", { class: "checkpoint" },
      field(`progression-on-${n}`, `${f.checkpoint} ${n}: ${t().forms.date}`, h("input", { type: "date" })),
      field(`progression-value-${n}`, `${f.checkpoint} ${n}: ${t().value}`, h("input", { type: "number", min: 0, max: 100, step: 1 }))));
  };
  for (let i = 0; i < 3; i += 1) addRow();
  const more = h("button", { type: "button", class: "secondary", id: "progression-add", onclick: addRow }, f.add_checkpoint);
  return factForm("progression-form", f.progression_title, [instrument, rows, more, dateField("progression-date")], () => {
    const checkpoints = [...rows.querySelectorAll(".checkpoint")].map((row) => {
      const [on, value] = row.querySelectorAll("input");
      return { on: on.value, value: number(value) };
    }).filter((c) => c.on || c.value !== null);
    if (!checkpoints.length) throw new Error(f.checkpoints_missing);
    return { ...course.fact, type: "ExpectedProgressionSet", effective_date: document.getElementById("progression-date").value,
      instrument: instrument.querySelector("select").value, checkpoints };
  }, { checkpoints: "progression-rows", instrument: "progression-instrument", effective_date: "progression-date" });
}

/* The items of an instrument as the form asks them: [key, Danish/English words]. */
function instrumentItems(instrument) {
  const f = t().forms;
  const scale = SCALES[instrument];
  if (typeof scale.items !== "number") return scale.items.map((k) => [k, (f.items[instrument] || {})[k] || k]);
  const words = f.items[instrument] || [];
  return Array.from({ length: scale.items }, (_, i) => [String(i + 1), `${i + 1}. ${words[i] || ""}`.trim()]);
}

function answersOf(instrument, box) {
  const scale = SCALES[instrument];
  const entries = [...box.querySelectorAll("input")].map((input) => [input.dataset.item, number(input)]).filter(([, v]) => v !== null);
  if (typeof scale.items === "number") return entries.map(([, v]) => v);
  return Object.fromEntries(entries);
}

function scoreText(instrument, answers) {
  const f = t().forms;
  const scores = instrumentScore(instrument, answers);
  if (instrument === "WHO5") return `${f.score_raw}: ${scores.raw} · ${f.score_index}: ${scores.index}`;
  if ("total" in scores) return `${f.score_total}: ${scores.total}`;
  const values = Object.values(scores);
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return `${f.score_mean}: ${formatValue(mean)} (${values.length} ${f.items_answered})`;
}

function measurementForm(course) {
  const f = t().forms;
  const instrument = instrumentSelect("measurement-instrument");
  const select = instrument.querySelector("select");
  const items = h("fieldset", { id: "measurement-items", class: "items" });
  const live = h("p", { id: "measurement-score", class: "score", "aria-live": "polite" });
  const problems = h("ul", { id: "measurement-problems" });
  const update = () => {
    const answers = answersOf(select.value, items);
    const typed = [...items.querySelectorAll("input")].some((input) => input.value !== "");
    const found = typed ? answerProblems(select.value, answers) : [];  // nothing typed yet: nothing wrong yet
    problems.replaceChildren(...found.map((p) => h("li", {}, problemText(p))));
    problems.className = found.length ? "error" : "";
    live.textContent = !typed || found.length ? f.score_pending : scoreText(select.value, answers);
  };
  const drawItems = () => {
    const scale = SCALES[select.value];
    items.replaceChildren(h("legend", {}, `${label("Instrument", select.value)} (${scale.low}–${scale.high})`),
      ...instrumentItems(select.value).map(([key, text]) => field(`measurement-item-${key}`, text,
        h("input", { type: "number", min: scale.low, max: scale.high, step: 1, inputmode: "numeric", "data-item": key, oninput: update }))));
    update();
  };
  select.addEventListener("change", drawItems);
  drawItems();
  return factForm("measurement-form", f.measurement_title, [instrument, items, live, problems, dateField("measurement-date")], () => {
    const answers = answersOf(select.value, items);
    const found = answerProblems(select.value, answers);
    if (found.length) throw new Error(found.map(problemText).join("; "));
    return { ...course.fact, type: "MeasurementRecorded", effective_date: document.getElementById("measurement-date").value,
      instrument: select.value, answers };
  }, { answers: "measurement-items", instrument: "measurement-instrument", effective_date: "measurement-date" });
}

/* A problem of answerProblems in the reader's language (the API's English words are the key). */
function problemText(problem) {
  if (state.lang !== "da") return problem;
  let m = problem.match(/^item (\S+) = (-?[\d.]+) is outside (\d+)-(\d+)$/);
  if (m) return `Spørgsmål ${m[1]} = ${m[2]} ligger uden for ${m[3]}-${m[4]}`;
  m = problem.match(/^(\S+) takes exactly (\d+) item answers, got (\d+)$/);
  if (m) return `${m[1]} skal have svar på alle ${m[2]} spørgsmål (har ${m[3]})`;
  m = problem.match(/^(\S+) takes answers by name/);
  if (m) return `${m[1]}: besvar mindst ét punkt`;
  return problem;
}

function followUpForm(course) {
  const f = t().forms;
  const months = choices("follow-up-months", f.months_after_end, ["6", "9", "12"].map((m) => [m, `${m} ${f.months}`]), "6");
  const answer = choices("follow-up-answer", f.keeps_own_housing, ["yes", "no", "unknown"].map((a) => [a, label("FollowUpAnswer", a)]), null);
  let form;
  form = factForm("follow-up-form", f.follow_up_title, [months, answer, dateField("follow-up-date")], () => {
    const keeps = chosen(form, "follow-up-answer");
    if (!keeps) throw new Error(f.answer_missing);
    return { ...course.fact, type: "FollowUpRecorded", effective_date: form.querySelector("#follow-up-date").value,
      months_after_end: Number(chosen(form, "follow-up-months")), keeps_own_housing: keeps };
  }, { months_after_end: "follow-up-months-choices", keeps_own_housing: "follow-up-answer-choices", effective_date: "follow-up-date" });
  return form;
}

/* The forms of a course, for its support worker and the team's leader (the API decides: a course
   out of reach never gets here, its double bottom line is refused first). */
function courseFormsSection(courseId, citizen, method) {
  const municipality = state.session.municipality;
  const course = { municipality, method, fact: { municipality, citizen_id: citizen, course_id: courseId } };
  return h("section", { id: "course-forms", "aria-labelledby": "forms-heading" },
    h("h2", { id: "forms-heading" }, t().forms.title),
    h("p", { class: "meta" }, t().forms.intro),
    h("div", { class: "forms-grid" },
      contactForm(course), timePlanForm(course), measurementForm(course), progressionForm(course), followUpForm(course)));
}

/* The history table's corrections: a contact, plan, progression, measurement or follow-up entered
   by mistake gets a button that withdraws it with a reason (a FactWithdrawn; the history keeps both);
   a withdrawn one is marked as such, its withdrawal names it. */
const WITHDRAWABLE = ["ContactRecorded", "TimePlanned", "ExpectedProgressionSet", "MeasurementRecorded", "FollowUpRecorded"];

/* What tells one entry from another of its kind in the history: minutes, hours, the instrument. */
function factDetail(fact) {
  if (fact.type === "ContactRecorded") return `${fact.minutes} min, ${label("ContactKind", fact.kind)}`;
  if (fact.type === "TimePlanned") return `${formatValue(fact.expected_hours)} ${t().units.hours}, ${fact.cti_phase ? t().phase(fact.cti_phase) : periodLabel(fact.month.slice(0, 7))}`;
  if (fact.type === "MeasurementRecorded" || fact.type === "ExpectedProgressionSet") return label("Instrument", fact.instrument);
  if (fact.type === "FollowUpRecorded") return `${fact.months_after_end} ${t().forms.months}: ${label("FollowUpAnswer", fact.keeps_own_housing)}`;
  if (fact.type === "FactWithdrawn") return fact.reason;
  return null;
}

function withdrawals(table, events, courseId, citizen) {
  const f = t().forms;
  const withdrawn = new Set(events.filter((e) => e.fact.type === "FactWithdrawn").map((e) => e.fact.withdrawn_event_id));
  table.querySelector("thead tr").append(h("th", { scope: "col" }, f.correct_col));
  for (const row of table.querySelectorAll("tbody tr")) {
    const event = events.find((e) => e.event_id === row.dataset.event);
    const cell = h("td", {});
    row.append(cell);
    if (!event) continue;
    const detail = factDetail(event.fact);
    if (detail) row.children[1].append(h("span", { class: "meta" }, ` · ${detail}`));
    if (withdrawn.has(event.event_id)) {
      row.classList.add("withdrawn");
      cell.append(h("span", { class: "meta" }, f.withdrawn_mark));
      continue;
    }
    if (!WITHDRAWABLE.includes(event.fact.type)) continue;
    const n = event.event_id.slice(0, 8);
    const reason = h("input", { type: "text", maxlength: 500 });
    const form = factForm(`withdraw-${n}`, "", [field(`withdraw-${n}-reason`, f.withdraw_reason, reason)], () => {
      if (!reason.value.trim()) throw new Error(f.reason_missing);
      return { municipality: state.session.municipality, citizen_id: citizen, course_id: courseId, type: "FactWithdrawn",
        effective_date: todayIso(), withdrawn_event_id: event.event_id, reason: reason.value.trim() };
    }, { reason: `withdraw-${n}-reason` });
    form.classList.add("withdraw-form");
    form.querySelector("h3").remove();
    form.querySelector("button[type=submit]").textContent = f.withdraw_confirm;
    form.hidden = true;
    const open = h("button", { type: "button", class: "secondary", id: `withdraw-${n}-open`, onclick: () => { form.hidden = false; open.hidden = true; reason.focus(); } }, f.withdraw);
    cell.append(open, form);
  }
}

/* --- the week's contacts on one screen (#/week, from "Mine borgere") ------------------------- */

const WEEK_DAYS = 7;

function mondayOf(day) {
  const monday = new Date(day.getFullYear(), day.getMonth(), day.getDate());
  monday.setDate(monday.getDate() - ((monday.getDay() + 6) % 7));
  return monday;
}

function addDays(day, n) { return new Date(day.getFullYear(), day.getMonth(), day.getDate() + n); }

/* Posts the week's contacts as one batch; the key stays the same until an answer came. */
async function postBatch(facts, keyHolder) {
  const response = await fetch("/api/registration/v1/facts/batch", {
    method: "POST",
    credentials: "same-origin",
    headers: { "content-type": "application/json", "idempotency-key": keyHolder.key },
    body: JSON.stringify({ facts }),
  });
  const body = (response.headers.get("content-type") || "").includes("json") ? await response.json() : null;
  keyHolder.key = newKey();
  if (response.status === 401) window.location.assign("/login");
  return { status: response.status, body };
}

/* A row per active course of the worker, a column per day of the week: the minutes of the day's
   contact and, per row, its kind. One batch stores them all; each cell refused says why. */
async function weekPage(main) {
  const f = t().forms;
  const chosen = new URLSearchParams(location.hash.split("?")[1] || "").get("week");
  const monday = mondayOf(chosen && /^\d{4}-\d{2}-\d{2}$/.test(chosen) ? new Date(`${chosen}T12:00:00`) : new Date());
  const days = Array.from({ length: WEEK_DAYS }, (_, i) => addDays(monday, i));
  const today = todayIso();
  // Buttons, not links: the weeks go on without end, and a link crawler would follow them all.
  const weekLink = (n, text, id) => h("button", { type: "button", class: "secondary", id,
    onclick: () => { location.hash = `#/week?week=${iso(addDays(monday, 7 * n))}`; } }, text);
  main.append(h("h1", {}, f.week_title), h("p", { class: "meta" }, f.week_intro),
    h("nav", { class: "toolbar", "aria-label": f.week_title }, weekLink(-1, f.week_previous, "week-previous"),
      h("span", { id: "week-shown" }, `${f.week_of} ${formatDate(iso(monday))}–${formatDate(iso(days[WEEK_DAYS - 1]))}`),
      iso(addDays(monday, 7)) <= today ? weekLink(1, f.week_next, "week-next") : null));
  const municipality = state.session.municipality;
  const courses = await api("projections", `v1/courses?${query({ municipality, state: "active", page_size: 500, sort: "last_contact" })}`);
  if (!courses.rows.length) { main.append(h("p", {}, f.week_none)); return; }
  const kinds = ["face_to_face", "phone_digital", "partners", "attempted", "cancelled_by_citizen"];
  const rows = courses.rows.map((r) => {
    const kind = h("select", { id: `week-${r.course}-kind` }, kinds.map((k) => h("option", { value: k }, label("ContactKind", k))));
    const cells = days.map((day) => {
      const input = h("input", { type: "number", min: 0, max: 1440, step: 5, inputmode: "numeric", id: `week-${r.course}-${iso(day)}`,
        disabled: iso(day) > today, "data-day": iso(day), class: "minutes" });
      return h("td", {}, h("label", { for: input.id, class: "visually-hidden" }, `${r.citizen} ${formatDate(iso(day))} (min)`), input);
    });
    return { course: r, kind, cells, tr: h("tr", { "data-course": r.course },
      h("th", { scope: "row" }, h("a", { href: `#/course/${encodeURIComponent(r.course)}` }, `${label("Method", r.method)} · ${r.citizen}`)),
      h("td", {}, h("label", { for: kind.id, class: "visually-hidden" }, `${r.citizen}: ${f.contact_kind}`), kind), cells) };
  });
  const dayName = (day) => new Intl.DateTimeFormat(locale(), { weekday: "short", day: "numeric", month: "numeric" }).format(day);
  main.append(h("div", { class: "table-wrap" }, h("table", { id: "week-table" },
    h("caption", { class: "meta" }, f.week_minutes),
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t().course_col), h("th", { scope: "col" }, f.contact_kind),
      days.map((day) => h("th", { scope: "col" }, dayName(day))))),
    h("tbody", {}, rows.map((r) => r.tr)))));
  const keyHolder = { key: newKey() };
  const message = h("p", { id: "week-message", role: "status", "aria-live": "polite", class: "form-message" });
  const button = h("button", { type: "button", id: "week-submit" }, f.week_save);
  button.addEventListener("click", async () => {
    const sent = [];
    for (const row of rows) {
      for (const td of row.cells) {
        const input = td.querySelector("input");
        input.removeAttribute("aria-invalid");
        for (const note of td.querySelectorAll(".field-error")) note.remove();
        const minutes = number(input);
        if (input.disabled || minutes === null) continue;
        sent.push({ input, fact: { municipality, citizen_id: row.course.citizen, course_id: row.course.course, type: "ContactRecorded",
          effective_date: input.dataset.day, minutes, kind: row.kind.value } });
      }
    }
    message.className = "form-message";
    if (!sent.length) { message.textContent = f.week_empty; message.classList.add("error"); return; }
    button.disabled = true;
    message.textContent = f.saving;
    try {
      const answer = await postBatch(sent.map((s) => s.fact), keyHolder);
      if (answer.status !== 200) {
        const error = (answer.body && answer.body.error) || {};
        message.textContent = (state.lang === "da" ? error.message_da : error.message) || `HTTP ${answer.status}`;
        message.classList.add("error");
        return;
      }
      for (const result of answer.body.results) {
        const { input } = sent[result.index];
        if (result.status === 201) {
          input.disabled = true;  // stored: not sent again with the cells still to correct
          input.classList.add("stored");
          continue;
        }
        const error = result.error || {};
        input.setAttribute("aria-invalid", "true");
        input.insertAdjacentElement("afterend", h("span", { class: "field-error error" },
          (state.lang === "da" ? error.message_da : error.message) || error.reason));
      }
      message.textContent = `${f.week_stored}: ${answer.body.accepted} · ${f.week_refused}: ${answer.body.rejected}`;
      if (answer.body.rejected) message.classList.add("error");
    } catch (error) {
      message.textContent = f.no_answer;  // the key stays: the same batch is stored only once
      message.classList.add("error");
    } finally {
      button.disabled = false;
    }
  });
  main.append(h("div", { class: "form-actions" }, button), message);
}

window.courseForms = { SCALES, INSTRUMENTS, answerProblems, score: instrumentScore, section: courseFormsSection, withdrawals, weekPage };
})();
