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
    previous: "Forrige", breakdown: "Fordelt på team, metode, alder og køn (seneste 12 måneder)", age_band: "Alder", gender: "Køn", export: "Eksport",
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
    suppressed: "Skjult (færre end 5 borgere)", citizens: "Borgere", course_hint: "Vælg et forløb på listen, eller åbn det fra en advarsel eller en liste.",
    target_line: "måltal",
    percentage_points: "procentpoint", month: "Måned", period_shown: "Viser", whole_municipality: "Hele kommunen", team_figure: "Teamet",
    distribution: "Fordeling i seneste periode", details_as_of: "Tal pr.", page: "Side", of: "af",
    prev_page: "Forrige side", next_page: "Næste side", showing: "Viser", course_pick: "Vælg et forløb",
    read_only: "Advarslerne vises til orientering; teamlederen kvitterer, udsætter og løser dem.",
    subject_types: { course: "Forløb", citizen: "Borger", worker: "Medarbejder" },
    nav_investment: "Investering", investment_title: "Investering (SØM)",
    investment_intro: "Indsatsens nettoresultat for kommune, region, stat og andre over 1-5 år: timer, overnatninger på §110, udsættelser og succesrate målt fra registreringerne; resten er forudsætninger, du kan flytte.",
    success_rate: "Succesrate", horizon: "År", overhead: "Overhead", psychiatry: "Indlæggelser i psykiatrien undgået pr. borger pr. år",
    payers: { municipality: "Kommune", region: "Region", state: "Stat", other: "Andre", total: "I alt", per_citizen: "Pr. borger" },
    scenario_names: { low: "Lav", mid: "Middel", high: "Høj" }, payer: "Betaler",
    sensitivity_title: "Følsomhed (middel)", sensitivities: { success_rate: "Succesrate 10 %", cost_up: "Omkostning +20 %", cost_down: "Omkostning -20 %", consequences_up: "Konsekvenser +20 %", consequences_down: "Konsekvenser -20 %" },
    measured_title: "Målt", measured: { citizens: "Borgere i målgruppen", hours_per_citizen: "Timer pr. borger", observed_success_rate: "Observeret succesrate", bed_days_per_citizen_year: "Overnatninger på §110 året før pr. borger", evictions_per_citizen_year: "Udsættelser året før pr. borger" },
    net_change: "Ændring", export_investment: "Hent beregningen som Excel (SØM-struktur)",
    nav_quality: "Datakvalitet", quality_title: "Datakvalitet",
    quality_intro: "Hvad mangler i registreringerne bag tallene: andelen af aktive forløb uden tidsplan, forventet progression, medarbejder, boligsituation de seneste 90 dage, udgangsmåling eller rettidig status; ukendte koder; efterregistrerede fakta; afsluttede forløb uden tilbud.",
    quality_row: "Opgørelse", quality_cols: { active_courses: "Aktive forløb", no_time_plan: "Uden tidsplan", no_expected_progression: "Uden forventet progression", no_worker: "Uden medarbejder", no_recent_housing: "Uden boligsituation (90 dage)", no_baseline_measurement: "Uden udgangsmåling", status_late: "Status for sent", backdated_facts: "Efterregistreret (> 30 dage)", unknown_housing: "Bolig ukendt", unknown_employment: "Beskæftigelse ukendt", unknown_gender: "Køn ukendt", unknown_follow_on_offer: "Tilbud ukendt", ended_without_follow_on_offer: "Afsluttet uden tilbud" },
    nav_mine: "Mine borgere", nav_team: "Teamets forløb", nav_homeless: "By-name-liste",
    mine_title: "Mine borgere", team_title: "Teamets forløb", homeless_title: "By-name-liste",
    mine_intro: "Dine aktive forløb: fase, seneste personlige kontakt, timer mod plan og det næste, der skal gøres.",
    team_intro: "Teamets aktive forløb med dobbelt bundlinje og advarsler side om side – til teammødet.",
    homeless_intro: "Borgere i hjemløshed på dagen, med situation, varighed og forløb; til- og afgang i måneden.",
    sort_by: "Sortér efter", sorts: { overdue: "Det mest forfaldne først", gap: "Største afvigelse i timer", last_contact: "Længst siden kontakt" },
    phase_col: "Fase", days_left: "dage tilbage", days_over: "dage over", last_contact: "Seneste kontakt", days_ago: "dage siden",
    every: "norm", hours_col: "Timer brugt / forventet", gap_col: "Afvigelse", measurement_col: "Seneste måling",
    housing_col: "Bolig", next_due: "Næste", worker_col: "Medarbejder", alerts_col: "Advarsler", none: "ingen",
    situation: "Situation", days_homeless: "Dage i hjemløshed", ready: "Klar til bolig", course_col: "Forløb",
    inflow: "Tilgang i måneden", outflow: "Afgang i måneden", flows: { new: "ny", returned: "vendt tilbage", housed: "i bolig", other: "andet" },
    yes: "Ja", no: "Nej", on_day: "Opgjort", count: "Antal", export_list: "Hent listen som Excel",
    show_name: "Vis navn", show_name_of: (c) => `Vis navnet på borger ${c}`, no_name: "intet navn registreret", cpr: "CPR",
    homeless_sorts: { days_homeless: "Længst i hjemløshed først", ready_to_move: "Klar til bolig først", inflow: "Tilgang i måneden først" },
    due_kinds: { measurement: "Måling", follow_up: "Opfølgning", contact: "Personlig kontakt", handleplan: "Handleplan (§141)", phase_change: "Faseskift", course_end: "Forløbet slutter" },
    choose: "Vælg …",
    forms: {
      title: "Registrér i forløbet", intro: "Det, fagsystemet ikke har: kontakter, tid, progression, målinger og opfølgning. Hver formular gemmer én registrering; det indtastede bliver stående, hvis noget afvises.",
      save: "Gem", saving: "Gemmer …", saved: "Gemt", refused: "Afvist", field_problem: "Ret feltet",
      no_answer: "Intet svar fra serveren; prøv igen (samme registrering gemmes kun én gang).",
      date: "Dato", contact_title: "Kontakt", contact_kind: "Kontaktform", minutes: "Minutter", other_minutes: "Andet antal minutter",
      minutes_missing: "Vælg eller skriv antal minutter.",
      plan_title: "Afsat tid", hours: "Timer", median: "Teamets median", no_median: "Teamet har ingen plan endnu at foreslå ud fra.",
      hours_missing: "Skriv antal timer.",
      progression_title: "Forventet progression", instrument: "Måleredskab", checkpoint: "Delmål", add_checkpoint: "Tilføj delmål",
      checkpoints_missing: "Udfyld mindst ét delmål (dato og værdi).",
      measurement_title: "Måling", score_pending: "Scoren vises, når svarene er gyldige.",
      score_raw: "Råscore", score_index: "Indeks", score_total: "Sum", score_mean: "Gennemsnit", items_answered: "punkter besvaret",
      follow_up_title: "Opfølgning efter forløbet", months_after_end: "Måneder efter afslutning", months: "måneder",
      keeps_own_housing: "Har borgeren fortsat egen bolig?", answer_missing: "Vælg et svar.",
      correct_col: "Ret", withdraw: "Træk tilbage", withdraw_reason: "Hvorfor trækkes den tilbage?", withdraw_confirm: "Bekræft",
      withdrawn_mark: "trukket tilbage", reason_missing: "Skriv hvorfor.", withdrawn_saved: "Registreringen er trukket tilbage",
      week_link: "Registrér ugens kontakter", week_title: "Ugens kontakter", week_intro: "Minutter pr. kontakt for hver af dine borgere, dag for dag; alt gemmes på én gang. Tomme felter: ingen kontakt.",
      week_previous: "Forrige uge", week_next: "Næste uge", week_of: "Uge", week_minutes: "Minutter pr. dag", week_save: "Gem ugens kontakter",
      week_none: "Du har ingen aktive forløb.", week_empty: "Skriv minutter ud for mindst én kontakt.", week_stored: "Gemt", week_refused: "Afvist",
      items: {
        WHO5: ["Jeg har været glad og i godt humør", "Jeg har følt mig rolig og afslappet", "Jeg har følt mig aktiv og energisk",
               "Jeg er vågnet frisk og udhvilet", "Min dagligdag har været fyldt med ting, der interesserer mig"],
        UCLA3: ["Hvor ofte føler du, at du mangler nogen at være sammen med?", "Hvor ofte føler du dig holdt udenfor?", "Hvor ofte føler du dig isoleret fra andre?"],
        ORS: ["Individuelt (personligt velbefindende)", "Relationer (familie, nære relationer)", "Socialt (arbejde, skole, venskaber)", "Generelt (samlet velbefindende)"],
        SRS: ["Relation (følte mig hørt og forstået)", "Mål og emner (talte om det, jeg ville)", "Tilgang eller metode (passede til mig)", "Generelt (samtalen var rigtig for mig)"],
        LIKERT: { bokompetence: "Bokompetence", oekonomi: "Kan overskue og forvalte økonomi", stabil_livsstil: "Stabil livsstil",
                  mentale_vanskeligheder: "Mentale vanskeligheder står i vejen", rusmiddelforbrug: "Rusmiddelforbrug står i vejen" },
        RECOVERY_STAR: { mental_health: "Psykisk helbred", physical_health_self_care: "Fysisk helbred og egenomsorg", living_skills: "Praktiske færdigheder",
                         social_networks: "Socialt netværk", work: "Arbejde", relationships: "Relationer", addictive_behaviour: "Afhængighed",
                         responsibilities: "Ansvar", identity_self_esteem: "Identitet og selvværd", trust_hope: "Tillid og håb" },
      },
    },
    nav_organisation: "Organisation", organisation_title: "Organisation: metodefidelitet, trivsel og modenhed",
    organisation_intro: "Teamets profil i medarbejderundersøgelsen, fidelitetsmålingen og modenhedsmålingen, runde for runde, ved siden af teamets outcome-nøgletal. Resultater vises først, når mindst 5 har svaret; ingen kan se den enkeltes svar.",
    answer_title: "Besvar en runde", survey: "Spørgeskema", round: "Runde", answer_submit: "Send besvarelse",
    answer_anonymous: "Anonymt: dit svar gemmes uden dit navn, og kun gennemsnit for mindst 5 besvarelser vises.",
    answer_saved: "Tak – din besvarelse er gemt.", answer_all_items: "Besvar alle spørgsmål.",
    profile_title: "Profil pr. team og runde", dimension: "Dimension", mean: "Gennemsnit (1-5)", share_agreeing: "Andel enige (4-5)",
    respondents: "Besvarelser", suppressed_answers: "Skjult (færre end 5 besvarelser)", no_results: "Ingen besvarelser endnu.",
    partner_meetings: "Møder med samarbejdspartnere", overall: "I alt", outcome_title: "Teamets outcome-nøgletal", trend: "Udvikling",
    units: { share: "andel", courses: "forløb", citizens: "borgere", days: "dage", hours: "timer", DKK: "kr.", "bed-days": "overnatninger", evictions: "udsættelser", homes: "boliger",
             "contacts per citizen-week": "kontakter pr. borger-uge", "courses per worker": "forløb pr. medarbejder", "score 1-5": "score 1-5" },
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
    previous: "Previous", breakdown: "By team, method, age and gender (last 12 months)", age_band: "Age", gender: "Gender", export: "Export",
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
    suppressed: "Hidden (fewer than 5 citizens)", citizens: "Citizens", course_hint: "Choose a course from the list, or open it from an alert or a list.",
    target_line: "target",
    percentage_points: "percentage points", month: "Month", period_shown: "Showing", whole_municipality: "Whole municipality", team_figure: "Team",
    distribution: "Distribution in the latest period", details_as_of: "Figures as of", page: "Page", of: "of",
    prev_page: "Previous page", next_page: "Next page", showing: "Showing", course_pick: "Choose a course",
    read_only: "The alerts are shown for information; the team leader acknowledges, snoozes and resolves them.",
    subject_types: { course: "Course", citizen: "Citizen", worker: "Worker" },
    nav_investment: "Investment", investment_title: "Investment (SØM)",
    investment_intro: "The effort's net result for municipality, region, state and others over 1-5 years: hours, §110 bed-days, evictions and success rate measured from the registrations; the rest are assumptions you can move.",
    success_rate: "Success rate", horizon: "Years", overhead: "Overhead", psychiatry: "Psychiatric admissions avoided per citizen a year",
    payers: { municipality: "Municipality", region: "Region", state: "State", other: "Others", total: "Total", per_citizen: "Per citizen" },
    scenario_names: { low: "Low", mid: "Mid", high: "High" }, payer: "Payer",
    sensitivity_title: "Sensitivity (mid)", sensitivities: { success_rate: "Success rate 10%", cost_up: "Cost +20%", cost_down: "Cost -20%", consequences_up: "Consequences +20%", consequences_down: "Consequences -20%" },
    measured_title: "Measured", measured: { citizens: "Citizens in the target group", hours_per_citizen: "Hours per citizen", observed_success_rate: "Observed success rate", bed_days_per_citizen_year: "§110 bed-days the year before per citizen", evictions_per_citizen_year: "Evictions the year before per citizen" },
    net_change: "Change", export_investment: "Download the calculation as Excel (SØM structure)",
    nav_quality: "Data quality", quality_title: "Data quality",
    quality_intro: "What is missing from the registrations behind the figures: the share of active courses without a time plan, expected progression, worker, housing situation in the last 90 days, baseline measurement or a status on time; unknown codes; backdated facts; ended courses without an offer.",
    quality_row: "Figures for", quality_cols: { active_courses: "Active courses", no_time_plan: "No time plan", no_expected_progression: "No expected progression", no_worker: "No worker", no_recent_housing: "No housing situation (90 days)", no_baseline_measurement: "No baseline measurement", status_late: "Status late", backdated_facts: "Backdated (> 30 days)", unknown_housing: "Housing unknown", unknown_employment: "Employment unknown", unknown_gender: "Gender unknown", unknown_follow_on_offer: "Offer unknown", ended_without_follow_on_offer: "Ended without an offer" },
    nav_mine: "My citizens", nav_team: "Team's courses", nav_homeless: "By-name list",
    mine_title: "My citizens", team_title: "The team's courses", homeless_title: "By-name list",
    mine_intro: "Your active courses: phase, last face-to-face contact, hours against plan and what is due next.",
    team_intro: "The team's active courses with the double bottom line and alerts side by side – for the team meeting.",
    homeless_intro: "Citizens homeless on the day, with situation, duration and course; inflow and outflow this month.",
    sort_by: "Sort by", sorts: { overdue: "Most overdue first", gap: "Largest gap in hours", last_contact: "Longest since contact" },
    phase_col: "Phase", days_left: "days left", days_over: "days over", last_contact: "Last contact", days_ago: "days ago",
    every: "norm", hours_col: "Hours used / expected", gap_col: "Gap", measurement_col: "Latest measurement",
    housing_col: "Housing", next_due: "Next", worker_col: "Worker", alerts_col: "Alerts", none: "none",
    situation: "Situation", days_homeless: "Days homeless", ready: "Ready to move", course_col: "Course",
    inflow: "Inflow this month", outflow: "Outflow this month", flows: { new: "new", returned: "returned", housed: "housed", other: "other" },
    yes: "Yes", no: "No", on_day: "On", count: "Count", export_list: "Download the list as Excel",
    show_name: "Show name", show_name_of: (c) => `Show the name of citizen ${c}`, no_name: "no name recorded", cpr: "CPR",
    homeless_sorts: { days_homeless: "Longest homeless first", ready_to_move: "Ready to move first", inflow: "Inflow this month first" },
    due_kinds: { measurement: "Measurement", follow_up: "Follow-up", contact: "Face-to-face contact", handleplan: "Handleplan (§141)", phase_change: "Phase change", course_end: "Course ends" },
    choose: "Choose …",
    forms: {
      title: "Record in the course", intro: "What the case system does not hold: contacts, time, progression, measurements and follow-up. Each form stores one fact; what you typed stays if something is refused.",
      save: "Save", saving: "Saving …", saved: "Saved", refused: "Refused", field_problem: "Correct the field",
      no_answer: "No answer from the server; try again (the same entry is stored only once).",
      date: "Date", contact_title: "Contact", contact_kind: "Kind of contact", minutes: "Minutes", other_minutes: "Other number of minutes",
      minutes_missing: "Choose or type the minutes.",
      plan_title: "Time set aside", hours: "Hours", median: "The team's median", no_median: "The team has no plan yet to suggest from.",
      hours_missing: "Type the hours.",
      progression_title: "Expected progression", instrument: "Instrument", checkpoint: "Checkpoint", add_checkpoint: "Add a checkpoint",
      checkpoints_missing: "Fill in at least one checkpoint (date and value).",
      measurement_title: "Measurement", score_pending: "The score shows once the answers are valid.",
      score_raw: "Raw score", score_index: "Index", score_total: "Total", score_mean: "Mean", items_answered: "items answered",
      follow_up_title: "Follow-up after the course", months_after_end: "Months after the end", months: "months",
      keeps_own_housing: "Does the citizen still have an own home?", answer_missing: "Choose an answer.",
      correct_col: "Correct", withdraw: "Withdraw", withdraw_reason: "Why is it withdrawn?", withdraw_confirm: "Confirm",
      withdrawn_mark: "withdrawn", reason_missing: "Say why.", withdrawn_saved: "The entry is withdrawn",
      week_link: "Record the week's contacts", week_title: "The week's contacts", week_intro: "Minutes per contact for each of your citizens, day by day; all stored at once. Empty fields: no contact.",
      week_previous: "Previous week", week_next: "Next week", week_of: "Week", week_minutes: "Minutes per day", week_save: "Save the week's contacts",
      week_none: "You have no active courses.", week_empty: "Type the minutes of at least one contact.", week_stored: "Stored", week_refused: "Refused",
      items: {
        WHO5: ["I have felt cheerful and in good spirits", "I have felt calm and relaxed", "I have felt active and vigorous",
               "I woke up feeling fresh and rested", "My daily life has been filled with things that interest me"],
        UCLA3: ["How often do you feel that you lack companionship?", "How often do you feel left out?", "How often do you feel isolated from others?"],
        ORS: ["Individually (personal well-being)", "Interpersonally (family, close relationships)", "Socially (work, school, friendships)", "Overall (general sense of well-being)"],
        SRS: ["Relationship (felt heard and understood)", "Goals and topics (talked about what I wanted)", "Approach or method (a good fit for me)", "Overall (the session was right for me)"],
        LIKERT: { bokompetence: "Housing skills", oekonomi: "Manages own finances", stabil_livsstil: "Stable lifestyle",
                  mentale_vanskeligheder: "Mental difficulties stand in the way", rusmiddelforbrug: "Substance use stands in the way" },
        RECOVERY_STAR: { mental_health: "Mental health", physical_health_self_care: "Physical health and self-care", living_skills: "Living skills",
                         social_networks: "Social networks", work: "Work", relationships: "Relationships", addictive_behaviour: "Addictive behaviour",
                         responsibilities: "Responsibilities", identity_self_esteem: "Identity and self-esteem", trust_hope: "Trust and hope" },
      },
    },
    nav_organisation: "Organisation", organisation_title: "Organisation: method fidelity, staff survey and maturity",
    organisation_intro: "The team's profile in the staff survey, the fidelity round and the maturity measurement, round by round, beside the team's outcome figures. Results show once at least 5 have answered; no one can see one person's answers.",
    answer_title: "Answer a round", survey: "Survey", round: "Round", answer_submit: "Send answers",
    answer_anonymous: "Anonymous: your answers are kept without your name, and only means of at least 5 answers are shown.",
    answer_saved: "Thank you – your answers are saved.", answer_all_items: "Answer every item.",
    profile_title: "Profile per team and round", dimension: "Dimension", mean: "Mean (1-5)", share_agreeing: "Share agreeing (4-5)",
    respondents: "Answers", suppressed_answers: "Hidden (fewer than 5 answers)", no_results: "No answers yet.",
    partner_meetings: "Partner meetings", overall: "Overall", outcome_title: "The team's outcome figures", trend: "Trend",
    units: { share: "share", courses: "courses", citizens: "citizens", days: "days", hours: "hours", DKK: "DKK", "bed-days": "bed-days", evictions: "evictions", homes: "homes",
             "contacts per citizen-week": "contacts per citizen-week", "courses per worker": "courses per worker", "score 1-5": "score 1-5" },
  },
};
const KINDS = ["process", "outcome", "economy", "structure"];
// The KPIs' method filter: the course methods (Method), then the methods recorded as facts about the
// citizen (CitizenMethod: Udredning og Plan, Køreplan), each with the code list that names it.
const METHODS = [...["CTI", "ICM", "ACT", "SEL85", "OUTREACH"].map((m) => ["Method", m]),
  ...["UDREDNING", "KOREPLAN"].map((m) => ["CitizenMethod", m])];
const AGE_BANDS = ["18-24", "25-29", "30-39", "40-49", "50-64", "65+"];  // contracts/methods.py AGE_BANDS
const GENDERS = ["female", "male"];

const state = { lang: readLang(), session: null, catalogue: null, rules: null, labels: null, teams: null };
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

/* The month a page looks at: chosen in the address (?month=2026-10), or else the last complete month. */
function chosenMonth() {
  const chosen = new URLSearchParams(location.hash.split("?")[1] || "").get("month");
  if (chosen && /^\d{4}-\d{2}$/.test(chosen)) return chosen;
  const today = new Date();
  return iso(new Date(today.getFullYear(), today.getMonth() - 1, 1)).slice(0, 7);
}

/* Twelve whole months ending with the chosen one. */
function lastTwelveMonths() {
  const [year, month] = chosenMonth().split("-").map(Number);
  return { from: iso(new Date(year, month - 12, 1)), to: iso(new Date(year, month, 0)) };
}

function monthPicker(route) {
  const input = h("input", { type: "month", id: "month-select", value: chosenMonth(), max: iso(new Date()).slice(0, 7),
    onchange: (e) => { if (e.target.value) location.hash = `${route}?${query({ ...hashParams(), month: e.target.value })}`; } });
  return h("label", { for: "month-select" }, t().month, input);
}

function hashParams() { return Object.fromEntries(new URLSearchParams(location.hash.split("?")[1] || "")); }

function periodLabel(period) {
  if (/^\d{4}-\d{2}$/.test(period || "")) {
    const [year, month] = period.split("-").map(Number);
    return new Intl.DateTimeFormat(locale(), { month: "long", year: "numeric" }).format(new Date(year, month - 1, 1));
  }
  return period || "";
}

function formatDate(value) {
  if (!value) return t().no_value;
  const [year, month, day] = value.slice(0, 10).split("-").map(Number);
  return new Intl.DateTimeFormat(locale(), { day: "2-digit", month: "2-digit", year: "numeric" }).format(new Date(year, month - 1, day));
}

function formatDateTime(value) {
  return new Intl.DateTimeFormat(locale(), { dateStyle: "short", timeStyle: "short" }).format(new Date(value));
}

/* A code or fact type in the reader's language (contracts/labels.py, served at /api/labels). */
function label(table, code) {
  const found = state.labels && (table === "facts" ? state.labels.facts : state.labels.codes[table]);
  const pair = found && found[code];
  return pair ? pair[state.lang === "da" ? 0 : 1] : code;
}

function kpiDefinition(kpi) { return kpi[`definition_${state.lang}`] || kpi.definition; }

/* A key of a KPI's breakdown in words (the catalogue's value_labels); a label key with {name}
   parts stands for a family of keys, its words filled from the key. */
function valueLabel(kpi, key) {
  const labels = kpi.value_labels || {};
  const lang = state.lang;
  if (labels[key]) return labels[key][lang];
  for (const [pattern, text] of Object.entries(labels)) {
    if (!pattern.includes("{")) continue;
    const names = [...pattern.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
    const regex = new RegExp(`^${pattern.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\\?\{\w+\\?\}/g, "(.+?)")}$`);
    const found = key.match(regex);
    if (found) return names.reduce((words, name, i) => words.replaceAll(`{${name}}`, found[i + 1]), text[lang]);
  }
  return key;
}

function unitName(unit, kpi) { return (kpi && kpi[`unit_${state.lang}`]) || t().units[unit] || unit; }

async function teams() {
  if (!state.teams) state.teams = (await api("projections", `v1/teams?${query({ municipality: state.session.municipality })}`)).teams;
  return state.teams;
}

function teamName(id) {
  const team = (state.teams || []).find((x) => x.team === id);
  return team ? team.name : id;
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
  if (unit === "share") return `${sign}${new Intl.NumberFormat(locale(), { maximumFractionDigits: 1 }).format(change * 100)} ${t().percentage_points}`;
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

function teamPicker(route, ...more) {
  if (state.session.role !== "manager") {
    return h("div", { class: "toolbar" }, h("span", { class: "meta" }, `${t().team}: ${teamName(state.session.team)}`), ...more);
  }
  const select = h("select", { id: "team-select", onchange: (e) => { location.hash = `${route}?${query({ ...hashParams(), team: e.target.value })}`; } },
    h("option", { value: "" }, t().all_teams),
    (state.teams || []).map((team) => h("option", { value: team.team, selected: team.team === teamScope() }, team.name)));
  return h("div", { class: "toolbar" }, h("label", { for: "team-select" }, t().team, select), ...more);
}

/* A team leader sees the team's figure with the whole municipality's beside it. */
function besideMunicipality() { return state.session.role === "team_leader"; }

async function overviewPage(main) {
  const kpis = await catalogue();
  await teams();
  const window_ = lastTwelveMonths();
  const team = teamScope();
  main.append(h("h1", {}, t().overview_title), h("p", { class: "meta" }, t().overview_intro),
    teamPicker("#/kpis", monthPicker("#/kpis")),
    h("p", { class: "meta", id: "period-shown" }, `${t().period_shown}: ${periodLabel(chosenMonth())}`));
  const sections = {};
  for (const kind of KINDS) {
    const grid = h("div", { class: "grid", id: `kind-${kind}` });
    sections[kind] = grid;
    main.append(h("section", { "aria-labelledby": `heading-${kind}` }, h("h2", { id: `heading-${kind}` }, t().kinds[kind]), grid));
  }
  await inBatches(kpis, 4, async (kpi) => {
    const base = { municipality: state.session.municipality, period: "month", ...window_ };
    const source = `v1/kpis/${kpi.id}?${query({ ...base, team })}`;
    const card = h("article", { class: "card kpi-card", "data-kpi": kpi.id, "data-source": source, "aria-busy": "true" },
      h("h3", {}, h("a", { href: `#/kpi/${kpi.id}?${query({ month: chosenMonth(), team })}` }, `${kpi.id} ${kpiName(kpi)}`)), h("p", { class: "meta" }, t().loading));
    sections[kpi.kind].append(card);
    try {
      const result = await api("projections", source);
      const series = result.series || [];
      const latest = series[series.length - 1] || {};
      const change = latest.previous ? latest.previous.change : null;
      let whole = null;
      if (besideMunicipality()) {
        const all = await api("projections", `v1/kpis/${kpi.id}?${query({ ...base, scope: "municipality" })}`);
        const allSeries = all.series || [];
        whole = h("div", { class: "meta whole" }, `${t().whole_municipality}: ${formatValue((allSeries[allSeries.length - 1] || {}).value, kpi.unit)}`);
      }
      card.replaceChildren(
        h("h3", {}, h("a", { href: `#/kpi/${kpi.id}?${query({ month: chosenMonth(), team })}` }, `${kpi.id} ${kpiName(kpi)}`)),
        h("div", { class: "value", "data-value": latest.value ?? "" }, formatValue(latest.value, kpi.unit)),
        h("div", { class: "meta" }, periodLabel(latest.period)),
        whole,
        window.charts.sparkline(series.map((p) => p.value), `${kpiName(kpi)}: ${series.map((p) => `${periodLabel(p.period)} ${formatValue(p.value, kpi.unit)}`).join(", ")}`),
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
  await teams();
  const kpi = kpis.find((k) => k.id === kpiId);
  if (!kpi) { main.append(h("h1", {}, kpiId), h("p", { class: "error" }, t().failed)); return; }
  const window_ = lastTwelveMonths();
  const municipality = state.session.municipality;
  const team = teamScope();
  const route = `#/kpi/${kpi.id}`;
  main.append(h("h1", {}, `${kpi.id} ${kpiName(kpi)}`), teamPicker(route, monthPicker(route)),
    h("dl", { class: "definition" },
      h("dt", {}, t().definition), h("dd", { id: "kpi-definition" }, kpiDefinition(kpi)),
      h("dt", {}, t().kind), h("dd", {}, t().kinds[kpi.kind]),
      h("dt", {}, t().unit), h("dd", {}, unitName(kpi.unit, kpi))));
  const base = { municipality, period: "month", ...window_, team };
  const exportBar = h("div", { class: "toolbar", role: "group", "aria-label": t().export },
    h("a", { href: `/api/projections/v1/kpis/${kpi.id}?${query({ ...base, format: "csv", lang: state.lang })}`, id: "export-csv", download: "" }, t().export_csv),
    h("a", { href: `/api/projections/v1/kpis/${kpi.id}?${query({ ...base, format: "xlsx", lang: state.lang })}`, id: "export-xlsx", download: "" }, t().export_xlsx),
    h("a", { href: `/api/projections/v1/kpis/export?${query({ ...base, format: "xlsx", lang: state.lang })}`, id: "export-all" }, t().export_all),
    state.session.role === "manager" ? h("a", { href: `#/benchmark/${kpi.id}` }, t().benchmark_link) : null);
  main.append(h("h2", {}, t().export), exportBar);
  const seriesSection = h("section", { "aria-labelledby": "series-heading" }, h("h2", { id: "series-heading" }, t().series));
  main.append(seriesSection);
  const result = await api("projections", `v1/kpis/${kpi.id}?${query(base)}`);
  const series = result.series || [];
  const whole = besideMunicipality()
    ? (await api("projections", `v1/kpis/${kpi.id}?${query({ ...base, team: null, scope: "municipality" })}`)).series || [] : null;
  const target = series.length && series[series.length - 1].target ? series[series.length - 1].target.value : null;
  seriesSection.append(window.charts.barChart(series.map((p) => ({ label: periodLabel(p.period), value: p.value })),
    { label: `${kpiName(kpi)} – ${t().series}`, target, targetLabel: t().target_line, format: (v) => formatValue(v, kpi.unit) }));
  const headings = [t().period, whole ? t().team_figure : t().value, ...(whole ? [t().whole_municipality] : []), t().previous, t().target];
  seriesSection.append(h("div", { class: "table-wrap" }, h("table", { id: "series-table" },
    h("thead", {}, h("tr", {}, headings.map((c, i) => h("th", { scope: "col", class: i ? "num" : "" }, c)))),
    h("tbody", {}, series.map((p, i) => h("tr", {}, h("th", { scope: "row" }, periodLabel(p.period)),
      h("td", { class: "num", "data-value": p.value ?? "" }, formatValue(p.value, kpi.unit)),
      whole ? h("td", { class: "num whole" }, formatValue((whole[i] || {}).value, kpi.unit)) : null,
      h("td", { class: "num" }, formatValue(p.previous && p.previous.value, kpi.unit)),
      h("td", { class: "num" }, p.target ? formatValue(p.target.value, kpi.unit) : t().no_value)))))));
  const latest = series[series.length - 1] || {};
  const flatten = (obj, prefix) => Object.entries(obj || {}).flatMap(([k, v]) =>
    v && typeof v === "object" && !Array.isArray(v) ? flatten(v, `${prefix}${k}.`) : [[`${prefix}${k}`, v]]);
  const parts = flatten(latest.values, "");
  if (parts.length) {
    main.append(h("section", { "aria-labelledby": "distribution-heading" }, h("h2", { id: "distribution-heading" }, `${t().distribution} (${periodLabel(latest.period)})`),
      h("div", { class: "table-wrap" }, h("table", { id: "distribution-table" },
        h("tbody", {}, parts.map(([key, value]) => h("tr", { "data-key": key }, h("th", { scope: "row" }, valueLabel(kpi, key)),
          h("td", { class: "num" }, typeof value === "number" ? formatValue(value, ((kpi.value_labels || {})[key] || {}).unit) : String(value ?? t().no_value)))))))));
  }
  // Other teams' figures only for a manager; a team leader's breakdown is by method within the team.
  const rows = [...(team || state.session.role !== "manager" ? [] : state.teams.map((x) => ({ label: `${t().team} ${x.name}`, params: { team: x.team } }))),
    ...METHODS.map(([codes, m]) => ({ label: `${t().method} ${label(codes, m)}`, params: { method: m, team } })),
    ...AGE_BANDS.map((band) => ({ label: `${t().age_band} ${band}`, params: { age_band: band, team } })),
    ...GENDERS.map((g) => ({ label: `${t().gender}: ${label("Gender", g)}`, params: { gender: g, team } }))];
  const tbody = h("tbody");
  main.append(h("section", { "aria-labelledby": "breakdown-heading" }, h("h2", { id: "breakdown-heading" }, t().breakdown),
    h("div", { class: "table-wrap" }, h("table", { id: "breakdown-table" },
      h("thead", {}, h("tr", {}, h("td", {}), h("th", { scope: "col", class: "num" }, t().value))), tbody))));
  const values = await inBatches(rows, 4, (row) =>
    api("projections", `v1/kpis/${kpi.id}?${query({ municipality, ...window_, ...row.params })}`).then((r) => r, () => null));
  // A cell of an age band or gender counting fewer than 5 citizens comes back suppressed: said so.
  rows.forEach((row, i) => tbody.append(h("tr", { "data-breakdown": Object.keys(row.params).filter((k) => k !== "team").join(",") },
    h("th", { scope: "row" }, row.label),
    h("td", { class: "num" }, values[i] && values[i].suppressed ? t().suppressed : formatValue(values[i] && values[i].value, kpi.unit)))));
}

async function ruleNames() {
  if (!state.rules) {
    state.rules = {};
    for (const rule of (await api("alerts", "v1/rules")).rules) state.rules[rule.rule] = rule;
  }
  return state.rules;
}

function mayOpenCourses() { return ["team_leader", "support_worker"].includes(state.session.role); }

function subjectText(alert) {
  const kind = t().subject_types[alert.subject_type] || alert.subject_type;
  if (alert.subject_type === "course" && mayOpenCourses()) {
    return h("a", { href: `#/course/${encodeURIComponent(alert.subject_id)}` }, `${kind} ${alert.subject_id}`);
  }
  return `${kind} ${alert.subject_id}`;
}

const ALERTS_PAGE = 20;

async function alertsPage(main) {
  const params = hashParams();
  const alertState = params.state || "open";
  const offset = Math.max(0, Number.parseInt(params.offset || "0", 10) || 0);
  const team = teamScope();
  const rules = await ruleNames();
  await teams();
  const mayChange = state.session.role === "team_leader";
  main.append(h("h1", {}, t().alerts_title));
  const stateSelect = h("select", { id: "state-select", onchange: (e) => { location.hash = `#/alerts?${query({ state: e.target.value, team })}`; } },
    Object.entries(t().states).map(([value, text]) => h("option", { value, selected: value === alertState }, text)));
  main.append(teamPicker("#/alerts", h("label", { for: "state-select" }, t().state, stateSelect)));
  if (!mayChange) main.append(h("p", { class: "meta", id: "read-only" }, t().read_only));
  const result = await api("alerts", `v1/alerts?${query({ municipality: state.session.municipality, state: alertState, team, limit: ALERTS_PAGE, offset })}`);
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
    if (mayChange && alert.state !== "resolved") {
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
    const details = (alert.details_text || {})[state.lang];
    tbody.append(h("tr", { "data-alert": alert.id, "data-rule": alert.rule },
      h("td", {}, rule ? (state.lang === "da" ? rule.name_da : rule.name_en) : alert.rule,
        details ? h("div", { class: "meta details" }, `${details} (${t().details_as_of} ${formatDate(alert.details_as_of)})`) : null),
      h("td", { class: `sev-${alert.severity}` }, t().severities[alert.severity] || alert.severity),
      h("td", {}, subjectText(alert)),
      h("td", {}, teamName(alert.team)),
      h("td", {}, formatDateTime(alert.raised_at)),
      mayChange ? h("td", {}, actions) : null));
  }
  const first = result.offset + 1, last = result.offset + result.alerts.length;
  main.append(h("div", { class: "table-wrap" }, h("table", { id: "alerts-table" },
    h("caption", { class: "meta" }, `${t().states[alertState]}: ${result.total} · ${t().showing} ${first}–${last}`),
    h("thead", {}, h("tr", {}, [t().rule, t().severity, t().subject, t().team, t().raised, ...(mayChange ? [t().actions] : [])]
      .map((c) => h("th", { scope: "col" }, c)))),
    tbody)));
  const pageLink = (to, text, id) => h("a", { href: `#/alerts?${query({ state: alertState, team, offset: to })}`, id }, text);
  main.append(h("nav", { class: "pager toolbar", "aria-label": t().page },
    result.offset > 0 ? pageLink(Math.max(0, result.offset - ALERTS_PAGE), t().prev_page, "prev-page") : null,
    h("span", { class: "meta" }, `${t().page} ${Math.floor(result.offset / ALERTS_PAGE) + 1} ${t().of} ${Math.max(1, Math.ceil(result.total / ALERTS_PAGE))}`),
    result.next_offset !== null ? pageLink(result.next_offset, t().next_page, "next-page") : null));
}

function unitLabel(unit) {
  return unit.startsWith("phase_") ? t().phase(unit.slice(6)) : periodLabel(unit);
}

async function coursePage(main, courseId) {
  main.append(h("h1", {}, t().course_title));
  const courses = await api("projections", `v1/courses?${query({ municipality: state.session.municipality, state: "all", page_size: 500, sort: "overdue" })}`);
  const select = h("select", { id: "course-select", onchange: (e) => { if (e.target.value) location.hash = `#/course/${encodeURIComponent(e.target.value)}`; } },
    h("option", { value: "" }, t().choose),
    courses.rows.map((r) => h("option", { value: r.course, selected: r.course === courseId }, `${r.citizen} · ${label("Method", r.method)} · ${r.course}`)));
  main.append(h("div", { class: "toolbar" }, h("label", { for: "course-select" }, t().course_pick, select)));
  if (!courseId) { main.append(h("p", { class: "meta" }, t().course_hint)); return; }
  const municipality = state.session.municipality;
  const dbl = await api("projections", `v1/courses/${encodeURIComponent(courseId)}/double-bottom-line?${query({ municipality })}`);
  const setAside = dbl.hours.length ? dbl.hours[dbl.hours.length - 1].cumulative_expected_hours : 0;
  main.append(h("p", {}, `${t().citizen}: ${dbl.citizen} · ${t().method}: ${label("Method", dbl.method)} · ${t().hours_set_aside}: ${formatValue(setAside)}`));
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
    section.append(h("h3", {}, `${t().progression}: ${label("Instrument", line.instrument)}`), h("div", { class: "table-wrap" }, h("table", {},
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, ""), h("th", { scope: "col" }, t().effective), h("th", { scope: "col", class: "num" }, t().value))),
      h("tbody", {}, [...line.expected.map((p) => [t().expected, p]), ...line.actual.map((p) => [t().actual, p])]
        .map(([kind, p]) => h("tr", {}, h("td", {}, kind), h("td", {}, formatDate(p.on)), h("td", { class: "num" }, formatValue(p.value))))))));
  }
  main.append(section);
  // The forms (static/forms.js): the course's support worker and the team's leader record its facts.
  if (window.courseForms) main.append(window.courseForms.section(courseId, dbl.citizen, dbl.method));
  const history = h("section", { "aria-labelledby": "history-heading", id: "course-history" }, h("h2", { id: "history-heading" }, t().history));
  main.append(history);
  try {
    const events = await api("registration", `v1/citizens/${encodeURIComponent(dbl.citizen)}/courses/${encodeURIComponent(courseId)}/history?${query({ municipality })}`);
    history.append(h("div", { class: "table-wrap" }, h("table", { id: "history-table" },
      h("thead", {}, h("tr", {}, [t().effective, t().fact, t().recorded, t().by].map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, events.events.map((e) => h("tr", { "data-fact": e.fact.type, "data-event": e.event_id }, h("td", {}, formatDate(e.fact.effective_date)),
        h("td", {}, label("facts", e.fact.type)), h("td", {}, formatDateTime(e.recorded_at)), h("td", {}, e.recorded_by)))))));
    // A fact entered by mistake is withdrawn from its row (static/forms.js), never deleted.
    if (window.courseForms) window.courseForms.withdrawals(history.querySelector("#history-table"), events.events, courseId, dbl.citizen);
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

/* --- caseloads: the roster and the by-name list ------------------------------------------- */

const ROSTER_PAGE = 25;

function phaseCell(row) {
  if (!row.phase) return t().no_value;
  const left = row.phase.days_left;
  const when = left === null || left === undefined ? "" : left >= 0 ? ` · ${left} ${t().days_left}` : ` · ${-left} ${t().days_over}`;
  return h("span", { class: left !== null && left < 0 ? "overdue" : "" }, `${t().phase(row.phase.phase)}${when}`);
}

function contactCell(row) {
  const c = row.contact || {};
  if (!c.last_face_to_face_on) return t().no_value;
  const late = c.every_days && c.days_since > c.every_days;
  return h("span", { class: late ? "overdue" : "" },
    `${formatDate(c.last_face_to_face_on)} (${c.days_since} ${t().days_ago}${c.every_days ? `, ${t().every} ${c.every_days}` : ""})`);
}

function hoursCell(row) {
  const hrs = row.hours || {};
  if (hrs.expected === null || hrs.expected === undefined) return formatValue(hrs.actual);
  return `${formatValue(hrs.actual)} / ${formatValue(hrs.expected)}`;
}

function gapCell(row) {
  const hrs = row.hours || {};
  if (hrs.gap === null || hrs.gap === undefined) return t().no_value;
  const pct = hrs.gap_percent === null || hrs.gap_percent === undefined ? "" : ` (${formatValue(hrs.gap_percent)} %)`;
  return `${hrs.gap > 0 ? "+" : ""}${formatValue(hrs.gap)}${pct}`;
}

function measurementCell(row) {
  const m = row.measurement;
  if (!m) return t().no_value;
  const expected = m.expected === null || m.expected === undefined ? "" : ` / ${t().expected.toLowerCase()} ${formatValue(m.expected)}`;
  return `${label("Instrument", m.instrument)}: ${formatValue(m.value)}${expected} (${formatDate(m.on)})`;
}

function dueCell(row) {
  const due = row.next_due;
  if (!due) return t().no_value;
  return h("span", { class: due.days_left < 0 ? "overdue" : "" }, `${t().due_kinds[due.kind] || due.kind}: ${formatDate(due.due_on)}`);
}

function alertsCell(row) {
  const a = row.alerts;
  if (!a || !a.open) return t().none;
  return h("span", { class: `sev-${a.worst}` }, `${a.open} (${t().severities[a.worst] || a.worst})`);
}

/* The citizen's name, on demand: registration serves it to the citizen's support worker and the
   team's leader, and puts the read on the audit trail before it does. */
function nameButton(citizen) {
  const button = h("button", { type: "button", class: "show-name", "aria-label": t().show_name_of(citizen),
    onclick: async () => {
      button.disabled = true;
      let shown;
      try {
        const details = await api("registration", `v1/citizens/${encodeURIComponent(citizen)}/personal-details?${query({ municipality: state.session.municipality })}`);
        shown = details.name || (details.cpr ? `${t().cpr} ${details.cpr}` : t().no_name);
      } catch (error) {
        shown = error.status === 404 || error.status === 410 ? t().no_name : failureText(error);
      }
      button.replaceWith(h("span", { class: "citizen-name" }, shown));
    } }, t().show_name);
  return button;
}

async function rosterPage(main, kind) {
  const params = hashParams();
  const sort = params.sort || "overdue";
  const page = Math.max(1, Number.parseInt(params.page || "1", 10) || 1);
  const route = kind === "mine" ? "#/mine" : "#/team";
  main.append(h("h1", {}, t()[`${kind}_title`]), h("p", { class: "meta" }, t()[`${kind}_intro`]));
  const sortSelect = h("select", { id: "sort-select", onchange: (e) => { location.hash = `${route}?${query({ ...hashParams(), sort: e.target.value, page: 1 })}`; } },
    Object.entries(t().sorts).map(([value, text]) => h("option", { value, selected: value === sort }, text)));
  // A support worker's own courses, of whichever team; a team leader's team.
  const base = { municipality: state.session.municipality, state: "active", sort, team: kind === "mine" ? null : teamScope() };
  main.append(teamPicker(route, h("label", { for: "sort-select" }, t().sort_by, sortSelect),
    h("a", { href: `/api/projections/v1/courses?${query({ ...base, format: "xlsx" })}`, id: "export-roster", download: "" }, t().export_list),
    kind === "mine" ? h("a", { href: "#/week", id: "week-link" }, t().forms.week_link) : null));
  const result = await api("projections", `v1/courses?${query({ ...base, page, page_size: ROSTER_PAGE })}`);
  if (kind === "team") {
    // The alerts service owns the alerts: its open ones of the team, counted per course beside the rows.
    const open = await api("alerts", `v1/alerts?${query({ municipality: state.session.municipality, state: "open", team: teamScope(), limit: 1000 })}`);
    const rank = { critical: 3, warning: 2, info: 1 };
    const byCourse = {};
    for (const a of open.alerts.filter((x) => x.subject_type === "course")) {
      const seen = byCourse[a.subject_id] || { open: 0, worst: a.severity };
      seen.open += 1;
      if (rank[a.severity] > rank[seen.worst]) seen.worst = a.severity;
      byCourse[a.subject_id] = seen;
    }
    for (const row of result.rows) row.alerts = byCourse[row.course] || null;
  }
  const columns = [
    [t().course_col, (r) => [h("a", { href: `#/course/${encodeURIComponent(r.course)}`, class: "course-link" }, `${label("Method", r.method)} · ${r.citizen}`), " ", nameButton(r.citizen)]],
    ...(kind === "team" ? [[t().worker_col, (r) => r.worker || t().no_value]] : []),
    [t().phase_col, phaseCell],
    [t().last_contact, contactCell],
    [t().hours_col, hoursCell],
    [t().gap_col, gapCell],
    ...(kind === "team" ? [[t().alerts_col, alertsCell]] : []),
    [t().measurement_col, measurementCell],
    [t().housing_col, (r) => (r.housing && r.housing.situation ? label("HousingSituation", r.housing.situation) : t().no_value)],
    [t().next_due, dueCell],
  ];
  main.append(h("div", { class: "table-wrap" }, h("table", { id: "roster-table" },
    h("caption", { class: "meta" }, `${t().count}: ${result.total}`),
    h("thead", {}, h("tr", {}, columns.map(([name]) => h("th", { scope: "col" }, name)))),
    h("tbody", {}, result.rows.map((r) => h("tr", { "data-course": r.course }, columns.map(([, cell]) => h("td", {}, cell(r)))))))));
  const pageLink = (to, text, id) => h("a", { href: `${route}?${query({ ...hashParams(), page: to })}`, id }, text);
  main.append(h("nav", { class: "pager toolbar", "aria-label": t().page },
    page > 1 ? pageLink(page - 1, t().prev_page, "prev-page") : null,
    h("span", { class: "meta" }, `${t().page} ${page} ${t().of} ${Math.max(1, result.pages)}`),
    page < result.pages ? pageLink(page + 1, t().next_page, "next-page") : null));
}

async function homelessPage(main) {
  const team = teamScope();
  const sort = hashParams().sort || "days_homeless";
  const result = await api("projections", `v1/homeless-list?${query({ municipality: state.session.municipality, team, sort })}`);
  const sortSelect = h("select", { id: "sort-select", onchange: (e) => { location.hash = `#/homeless?${query({ ...hashParams(), sort: e.target.value })}`; } },
    Object.entries(t().homeless_sorts).map(([value, text]) => h("option", { value, selected: value === sort }, text)));
  main.append(h("h1", {}, t().homeless_title), h("p", { class: "meta" }, t().homeless_intro),
    teamPicker("#/homeless", h("label", { for: "sort-select" }, t().sort_by, sortSelect),
      h("a", { href: `/api/projections/v1/homeless-list?${query({ municipality: state.session.municipality, team, sort, format: "xlsx" })}`, id: "export-homeless", download: "" }, t().export_list)),
    h("p", { class: "meta" }, `${t().on_day}: ${formatDate(result.on)} · ${t().count}: ${result.total}`));
  const flows = (counts) => Object.entries(counts).map(([k, n]) => `${t().flows[k] || k}: ${n}`).join(" · ");
  main.append(h("dl", { class: "definition", id: "flows" },
    h("dt", {}, t().inflow), h("dd", { id: "inflow" }, flows(result.inflow)),
    h("dt", {}, t().outflow), h("dd", { id: "outflow" }, flows(result.outflow))));
  const courseCell = (c) => (mayOpenCourses() ? h("a", { href: `#/course/${encodeURIComponent(c.course)}` }, label("Method", c.method)) : label("Method", c.method));
  main.append(h("div", { class: "table-wrap" }, h("table", { id: "homeless-table" },
    h("thead", {}, h("tr", {}, [t().citizen, t().situation, t().days_homeless, t().ready, t().course_col, t().inflow]
      .map((c, i) => h("th", { scope: "col", class: i === 2 ? "num" : "" }, c)))),
    h("tbody", {}, result.citizens.map((r) => h("tr", { "data-citizen": r.citizen },
      h("th", { scope: "row" }, r.citizen),
      h("td", {}, label("HousingSituation", r.situation)),
      h("td", { class: "num" }, formatValue(r.days_homeless)),
      h("td", {}, r.ready_to_move ? `${t().yes} (${formatDate(r.ready_to_move_on)})` : t().no),
      h("td", {}, r.courses.length ? r.courses.map(courseCell).flatMap((x, i) => (i ? [", ", x] : [x])) : t().none),
      h("td", {}, r.inflow ? t().flows[r.inflow] || r.inflow : "")))))));
}


/* --- organisation: surveys, fidelity, maturity (docs/surveys.md) ----------------------------- */

const ANSWERS_BY_ROLE = { support_worker: ["worker"], team_leader: ["worker", "team"], manager: ["municipality"] };

function currentRound() {
  const today = new Date();
  return `${today.getFullYear()}-H${today.getMonth() < 6 ? 1 : 2}`;
}

/* Read-your-writes: waits (up to 10 s) until projections has applied the registration log up to `position`. */
async function projected(position) {
  for (let tries = 0; tries < 50; tries++) {
    const applied = await api("projections", "v1/position").catch(() => null);
    if (applied && applied.position >= position) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function surveyTitle(survey) { return state.lang === "da" ? survey.title_da : survey.title_en; }

function formatMeasure(value, share) {
  if (value === null || value === undefined) return t().no_value;
  return share ? `${(value * 100).toLocaleString(locale(), { maximumFractionDigits: 0 })} %` : value.toLocaleString(locale(), { maximumFractionDigits: 2 });
}

function answerForm(surveys, onSaved) {
  const mine = surveys.filter((s) => (ANSWERS_BY_ROLE[state.session.role] || []).includes(s.respondent));
  if (!mine.length) return null;
  const form = h("form", { id: "answer-form", class: "card" });
  const items = h("div", { id: "answer-items" });
  const select = h("select", { id: "survey-select", onchange: () => drawItems() },
    mine.map((s) => h("option", { value: `${s.id}:${s.version}` }, `${surveyTitle(s)} (v${s.version})`)));
  const round = h("input", { id: "round-input", value: currentRound(), pattern: "^[0-9]{4}-(H[12]|Q[1-4])$", required: true });
  const message = h("p", { id: "answer-message", role: "status" });
  function chosen() { const [id, version] = select.value.split(":"); return mine.find((s) => s.id === id && String(s.version) === version); }
  function drawItems() {
    const survey = chosen();
    const scale = survey.scale;
    items.replaceChildren(
      h("p", { class: "meta" }, survey.anonymous ? t().answer_anonymous : ""),
      ...survey.items.map((item) => h("fieldset", { class: "survey-item", "data-item": item.id },
        h("legend", {}, state.lang === "da" ? item.text_da : item.text_en),
        ...Array.from({ length: scale.high - scale.low + 1 }, (_, n) => scale.low + n).map((value) => h("label", {},
          h("input", { type: "radio", name: `item-${item.id}`, value, required: true }),
          ` ${value}${value === scale.low ? ` (${state.lang === "da" ? scale.low_da : scale.low_en})` : value === scale.high ? ` (${state.lang === "da" ? scale.high_da : scale.high_en})` : ""}`)))));
  }
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const survey = chosen();
    const answers = {};
    for (const item of survey.items) {
      const picked = form.querySelector(`input[name="item-${item.id}"]:checked`);
      if (!picked) { message.textContent = t().answer_all_items; message.className = "error"; return; }
      answers[item.id] = Number(picked.value);
    }
    try {
      const receipt = await post("registration", "v1/surveys/answers", { municipality: state.session.municipality, survey: survey.id, version: survey.version, round: round.value, answers });
      form.reset();
      round.value = currentRound();
      await projected(receipt.position);
      if (onSaved) await onSaved();
      message.textContent = t().answer_saved;
      message.className = "ok";
    } catch (error) {
      message.textContent = failureText(error);
      message.className = "error";
    }
  });
  form.append(h("h2", {}, t().answer_title),
    h("label", { for: "survey-select" }, t().survey, select), " ",
    h("label", { for: "round-input" }, t().round, round),
    items, h("button", { type: "submit", id: "answer-submit" }, t().answer_submit), message);
  drawItems();
  return form;
}

function profileTable(survey) {
  const rows = survey.results;
  if (!rows.length) return h("p", { class: "meta" }, t().no_results);
  return rows.map((row) => {
    const who = row.team === null ? t().whole_municipality : teamName(row.team);
    const caption = `${surveyTitle(survey)} · ${who} · ${t().round} ${row.round}`;
    if (row.suppressed) {
      return h("p", { class: "suppressed", "data-team": row.team ?? "", "data-round": row.round }, `${caption}: ${t().suppressed_answers}`);
    }
    return h("table", { class: "profile", "data-team": row.team ?? "", "data-round": row.round, "data-survey": survey.survey },
      h("caption", {}, `${caption} · ${t().respondents}: ${row.respondents}`),
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t().dimension), h("th", { scope: "col" }, t().mean), h("th", { scope: "col" }, t().share_agreeing))),
      h("tbody", {},
        row.dimensions.map((d) => h("tr", { "data-dimension": d.id },
          h("th", { scope: "row" }, state.lang === "da" ? d.name_da : d.name_en),
          h("td", { class: "mean" }, formatMeasure(d.mean)), h("td", {}, formatMeasure(d.share_agreeing, true)))),
        h("tr", { class: "overall" }, h("th", { scope: "row" }, t().overall),
          h("td", { class: "mean" }, formatMeasure(row.overall.mean)), h("td", {}, formatMeasure(row.overall.share_agreeing, true)))));
  });
}

async function outcomeFigures(team) {
  if (!["team_leader", "manager"].includes(state.session.role)) return null;
  const kpis = (await catalogue()).filter((k) => k.kind === "outcome").slice(0, 4);
  const list = h("dl", { id: "outcome-figures" });
  const base = { municipality: state.session.municipality, team, period: "month", ...lastTwelveMonths() };
  await inBatches(kpis, 4, async (kpi) => {
    try {
      const series = (await api("projections", `v1/kpis/${kpi.id}?${query(base)}`)).series || [];
      const latest = series[series.length - 1] || {};
      list.append(h("dt", {}, `${kpi.id} ${kpiName(kpi)}`), h("dd", { "data-kpi": kpi.id }, `${formatValue(latest.value, kpi.unit)} (${periodLabel(latest.period)})`));
    } catch (error) {
      list.append(h("dt", {}, `${kpi.id} ${kpiName(kpi)}`), h("dd", { class: "error" }, failureText(error)));
    }
  });
  return h("section", { class: "card", "aria-labelledby": "outcome-heading" }, h("h2", { id: "outcome-heading" }, t().outcome_title), list);
}

async function organisationPage(main) {
  await teams();
  const team = teamScope();
  const surveys = (await api("projections", `v1/surveys?${query({ municipality: state.session.municipality })}`)).surveys;
  const profile = h("section", { id: "profile", "aria-labelledby": "profile-heading" });
  async function drawProfile() {
    const figures = await api("projections", `v1/organisation?${query({ municipality: state.session.municipality, team })}`);
    const meetings = figures.partner_meetings.filter((m) => m.team === (team || null) || (!team && m.team === null));
    profile.replaceChildren(...[h("h2", { id: "profile-heading" }, t().profile_title),
      ...figures.surveys.map((survey) => h("div", { class: "survey-profile", "data-survey": survey.survey }, h("h3", {}, surveyTitle(survey)), profileTable(survey))),
      figures.surveys.length ? null : h("p", { class: "meta", id: "no-results" }, t().no_results),
      h("h3", {}, t().partner_meetings),
      meetings.length ? h("ul", { id: "partner-meetings" }, meetings.map((m) => h("li", {}, `${t().round} ${m.round}: ${m.count}`)))
        : h("p", { class: "meta", id: "partner-meetings" }, t().none)].filter(Boolean));
  }
  main.append(...[h("h1", {}, t().organisation_title), h("p", { class: "meta" }, t().organisation_intro),
    state.session.role === "manager" ? teamPicker("#/organisation") : null].filter(Boolean));
  const form = answerForm(surveys, drawProfile);
  const outcomes = await outcomeFigures(team);
  main.append(...[h("div", { class: "organisation-grid" }, profile, outcomes), form].filter(Boolean));
  await drawProfile();
}

/* Data quality: the shares of data-quality.py, overall, by team and by worker (a share's count
   and base in its title). */
async function qualityPage(main) {
  const team = teamScope();
  const result = await api("projections", `v1/data-quality?${query({ municipality: state.session.municipality, team })}`);
  main.append(h("h1", {}, t().quality_title), h("p", { class: "meta" }, t().quality_intro), teamPicker("#/quality"),
    h("p", { class: "meta" }, `${t().on_day}: ${formatDate(result.on)}`));
  const columns = Object.keys(t().quality_cols);
  const share = (figure) => h("td", { class: "num", title: `${figure.count} / ${figure.of}` }, formatValue(figure.share, "share"));
  const cells = (figures) => columns.map((key) => {
    if (key === "active_courses") return h("td", { class: "num" }, formatValue(figures.active_courses));
    if (key.startsWith("unknown_")) return share(figures.unknown[key.slice(8)]);
    return share(figures[key]);
  });
  const rows = [[team ? teamName(team) : t().whole_municipality, "overall", result.overall]]
    .concat(team ? [] : result.teams.map((r) => [teamName(r.team), `team-${r.team}`, r]))
    .concat(result.workers.map((r) => [`${t().worker_col} ${r.worker} (${teamName(r.team)})`, `worker-${r.worker}`, r]));
  main.append(h("div", { class: "table-wrap" }, h("table", { id: "quality-table" },
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t().quality_row), columns.map((key) => h("th", { scope: "col", class: "num" }, t().quality_cols[key])))),
    h("tbody", {}, rows.map(([name, id, figures]) => h("tr", { "data-row": id }, h("th", { scope: "row" }, name), cells(figures)))))));
}

/* Investment: the manager moves the sliders (success rate, horizon, overhead, psychiatric
   admissions); each move is a new calculation by GET /v1/investment. */
async function investmentPage(main) {
  const p = hashParams();
  const chosen = { success_rate: p.success_rate || "0.63", horizon_years: p.horizon_years || "5", overhead: p.overhead || "0.25", psychiatric_admissions_per_year: p.psychiatric_admissions_per_year || "0" };
  const params = { municipality: state.session.municipality, team: teamScope(), ...chosen };
  const result = await api("projections", `v1/investment?${query(params)}`);
  const slider = (key, text, min, max, step, shown) => h("label", { for: `slider-${key}` }, `${text}: ${shown}`,
    h("input", { type: "range", id: `slider-${key}`, min, max, step, value: chosen[key],
      onchange: (e) => { location.hash = `#/investment?${query({ ...hashParams(), [key]: e.target.value })}`; } }));
  const kr = (v) => `${formatValue(Math.round(v))} ${t().units.DKK}`;
  main.append(h("h1", {}, t().investment_title), h("p", { class: "meta" }, t().investment_intro),
    teamPicker("#/investment", h("a", { href: `/api/projections/v1/investment?${query({ ...params, format: "xlsx" })}`, id: "export-investment", download: "" }, t().export_investment)),
    h("div", { class: "toolbar", id: "sliders" },
      slider("success_rate", t().success_rate, 0, 1, 0.01, formatValue(Number(chosen.success_rate), "share")),
      slider("horizon_years", t().horizon, 1, 5, 1, chosen.horizon_years),
      slider("overhead", t().overhead, 0, 1, 0.05, formatValue(Number(chosen.overhead), "share")),
      slider("psychiatric_admissions_per_year", t().psychiatry, 0, 1, 0.05, formatValue(Number(chosen.psychiatric_admissions_per_year)))));
  main.append(h("h2", {}, t().measured_title), h("dl", { class: "definition", id: "measured" },
    Object.entries(t().measured).flatMap(([key, text]) => [h("dt", {}, text),
      h("dd", {}, formatValue(result.measured[key], key === "observed_success_rate" ? "share" : undefined))])));
  const payers = ["municipality", "region", "state", "other"];
  main.append(h("div", { class: "table-wrap" }, h("table", { id: "investment-table" },
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t().payer), result.scenarios.map((r) => h("th", { scope: "col", class: "num" }, t().scenario_names[r.scenario.name])))),
    h("tbody", {},
      payers.map((payer) => h("tr", { "data-payer": payer }, h("th", { scope: "row" }, t().payers[payer]), result.scenarios.map((r) => h("td", { class: "num" }, kr(r.totals.net[payer]))))),
      h("tr", { "data-payer": "total" }, h("th", { scope: "row" }, t().payers.total), result.scenarios.map((r) => h("td", { class: "num" }, kr(r.net_total)))),
      h("tr", { "data-payer": "per_citizen" }, h("th", { scope: "row" }, t().payers.per_citizen), result.scenarios.map((r) => h("td", { class: "num" }, r.net_per_citizen === null ? t().no_value : kr(r.net_per_citizen))))))));
  main.append(h("h2", {}, t().sensitivity_title), h("div", { class: "table-wrap" }, h("table", { id: "sensitivity-table" },
    h("thead", {}, h("tr", {}, [t().sensitivity_title, t().payers.total, t().net_change].map((c, i) => h("th", { scope: "col", class: i ? "num" : "" }, c)))),
    h("tbody", {}, result.sensitivity.map((r) => h("tr", {}, h("th", { scope: "row" }, t().sensitivities[r.assumption]), h("td", { class: "num" }, kr(r.net_total)), h("td", { class: "num" }, kr(r.change_from_base))))))));
}

/* --- shell -------------------------------------------------------------------------------- */

/* Each page with the roles it is for: the navigation shows a role its pages only, and a page that
   would answer 403 is neither linked nor opened (the permission table: README "Roles and scopes"). */
const ROUTES = [
  ["#/mine", "nav_mine", ["support_worker"], (main) => rosterPage(main, "mine")],
  ["#/team", "nav_team", ["team_leader"], (main) => rosterPage(main, "team")],
  ["#/kpis", "nav_kpis", ["team_leader", "manager"], (main) => overviewPage(main)],
  ["#/kpi/", null, ["team_leader", "manager"], (main, rest) => kpiPage(main, rest)],
  ["#/alerts", "nav_alerts", ["team_leader", "manager"], (main) => alertsPage(main)],
  ["#/week", null, ["support_worker"], (main) => window.courseForms.weekPage(main)],
  ["#/course", "nav_course", ["team_leader", "support_worker"], (main, rest) => coursePage(main, decodeURIComponent(rest.replace(/^\//, "")))],
  ["#/homeless", "nav_homeless", ["team_leader", "manager"], (main) => homelessPage(main)],
  ["#/quality", "nav_quality", ["team_leader", "manager"], (main) => qualityPage(main)],
  ["#/investment", "nav_investment", ["manager"], (main) => investmentPage(main)],
  ["#/benchmark", "nav_benchmark", ["manager"], (main, rest) => benchmarkPage(main, rest.replace(/^\//, ""))],
  ["#/organisation", "nav_organisation", ["support_worker", "team_leader", "manager"], (main) => organisationPage(main)],
];

function routesOfRole() { return ROUTES.filter(([, , roles]) => roles.includes(state.session.role)); }

function drawShell() {
  document.documentElement.lang = state.lang;
  document.getElementById("skip-link").textContent = t().skip;
  const nav = document.getElementById("nav");
  nav.setAttribute("aria-label", t().menu);
  const current = location.hash.split("?")[0] || routesOfRole()[0][0];
  nav.replaceChildren(...routesOfRole().filter(([, name]) => name).map(([prefix, name]) =>
    h("a", { href: prefix, id: `nav-${name.slice(4)}`, "aria-current": current.startsWith(prefix) || (prefix === "#/kpis" && current.startsWith("#/kpi/")) ? "page" : null }, t()[name])));
  const s = state.session;
  document.getElementById("who").textContent = `${s.name} · ${t().roles[s.role] || s.role} · ${t().municipality} ${s.municipality}${s.team ? ` · ${teamName(s.team)}` : ""}`;
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
  const allowed = routesOfRole();
  const hash = location.hash.split("?")[0] || allowed[0][0];
  const found = allowed.find(([prefix]) => hash.startsWith(prefix)) || allowed[0];
  const view = document.createElement("div");
  main.append(view);
  document.title = `casetrack – ${found[1] ? t()[found[1]] : t().nav_kpis}`;
  try {
    await found[3](view, hash.startsWith(found[0]) ? hash.slice(found[0].length) : "");
    if (mine === routing) main.setAttribute("data-ready", "true");
  } catch (error) {
    if (mine === routing) view.append(h("p", { class: "error", role: "alert" }, failureText(error)));
  }
}

async function start() {
  state.session = await (await fetch("/api/session", { credentials: "same-origin" })).json();
  if (!state.session.role) { window.location.assign("/login"); return; }
  state.labels = await (await fetch("/api/labels", { credentials: "same-origin" })).json();
  await teams().catch(() => null);
  document.getElementById("lang-toggle").addEventListener("click", () => {
    state.lang = state.lang === "da" ? "en" : "da";
    document.cookie = `casetrack_lang=${state.lang}; path=/; max-age=31536000; samesite=strict`;
    route();
  });
  window.addEventListener("hashchange", () => { setStatus(""); document.getElementById("main").removeAttribute("data-ready"); route(); });
  await route();
}

start();
