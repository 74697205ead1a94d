"""HTTP entrypoint of the caseloads: the course roster and the by-name list (roster.py,
homeless_list.py). A support worker reads the rows of their own courses, a team leader the team's,
a manager the municipality's; the by-name list is for team leaders and managers. Every read of a
list is one read on the audit trail: who, when, the list (a worker's, a team's, the municipality's)
and the filter it was read with."""

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from contracts.audit import SubjectType
from contracts.codes import CtiPhase, HousingSituation, Method
from contracts.facts import Identifier, MunicipalityCode
from contracts.instruments import Instrument
from contracts.labels import code_label
from runtime import access
from runtime.audit import audited_read
from runtime.auth import Principal, current_principal
from runtime.errors import error_responses
from services.projections import export, roster_cache, store
from services.projections.api import Format, Language, _dates_in_window, day_or_none, language_code, list_download
from services.projections.homeless_list import HomelessSort, homeless_list
from services.projections.responses import downloads
from services.projections.roster import RosterFilter, Sort, State, ordered, page_of, selected
from services.projections.roster_responses import HomelessListOut, RosterOut

router = APIRouter(prefix="/v1")
Caller = Annotated[Principal, Depends(current_principal)]
PAGE_SIZE_MAX = 500


def _list_subject(principal: Principal, municipality: str, team: str | None) -> tuple[SubjectType, str]:
    """Whose list is read: the worker's own, a team's, or the whole municipality's."""
    if principal.role == "support_worker" and principal.worker:
        return "worker", principal.worker
    if team is not None:
        return "team", team
    return "municipality", municipality


def _given(**params: Any) -> dict[str, str]:
    return {k: (v.value if hasattr(v, "value") else str(v)) for k, v in params.items() if v is not None}


def _roster_scope(principal: Principal, team: str | None, worker: str | None) -> tuple[str | None, str | None]:
    """The team and worker a caller's roster is limited to, whatever was asked: a support worker's
    own courses, a team leader's team; asking for someone else's is refused (403)."""
    if principal.role == "support_worker":
        if principal.worker is None or (worker is not None and worker != principal.worker):
            raise access.forbidden()
        return team, principal.worker
    return access.team_filter(principal, team), worker


@router.get(
    "/courses",
    response_model=RosterOut,
    responses=downloads("the roster (format=json), or as CSV or an XLSX workbook") | error_responses(403, 422),
)
async def course_roster(
    request: Request,
    principal: Caller,
    municipality: Annotated[MunicipalityCode, Query()],
    team: Identifier | None = None,
    worker: Identifier | None = None,
    method: Method | None = None,
    state: State = "active",
    due_within: Annotated[
        int | None, Query(ge=0, le=3650, description="only courses with something due within this many days")
    ] = None,
    sort: Sort = "overdue",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=PAGE_SIZE_MAX)] = 50,
    on: Annotated[date | None, Query(description="the day the rows stand on (default today)")] = None,
    as_of: Annotated[date | None, Query(description="as known at the end of that day (UTC)")] = None,
    format: Format = Format.JSON,  # noqa: A002
    lang: Annotated[Language, Query(description="csv and xlsx: headers, labels, CSV separators")] = Language.DA,
) -> dict[str, Any] | Response:
    """One row per course on the day `on`: phase and its planned end, days since the last face-to-face
    contact against the method's cadence, hours used against hours expected so far, the latest
    measurement against the expected progression, housing now and the next thing due. `state=active`
    counts as P1 does. Sorted by `overdue` (the next thing due, most overdue first), `gap` (the largest
    gap in hours first) or `last_contact` (longest since a face-to-face contact first)."""
    access.allow(principal, municipality, "support_worker", "team_leader", "manager")
    _dates_in_window(request, on=on, as_of=as_of)
    team, worker = _roster_scope(principal, team, worker)
    day = on or request.app.state.clock.today()
    subject_type, subject_id = _list_subject(principal, municipality, team)
    await audited_read(
        request,
        principal,
        action="read_course_roster",
        municipality=municipality,
        subject_type=subject_type,
        subject_id=subject_id,
        filter=_given(
            team=team,
            worker=worker,
            method=method,
            state=state,
            due_within=due_within,
            sort=sort,
            page=page,
            on=on,
            as_of=as_of,
            format=format,
        ),
    )
    today = request.app.state.clock.today()
    rows = await roster_cache.rows(request.app.state.pool, municipality, day, as_of, today)
    chosen = ordered(selected(rows, RosterFilter(team, worker, method, state, due_within)), sort)
    header = {
        "municipality": municipality,
        "on": day.isoformat(),
        "as_of": as_of.isoformat() if as_of else None,
        "state": state,
        "sort": sort,
        "team": team,
        "worker": worker,
        "method": method.value if method else None,
    }
    if format == Format.JSON:
        return header | page_of(chosen, page, page_size)
    lang_code = language_code(lang)
    flat = [_flat_row(r, lang_code) for r in chosen]
    return list_download(format, ROSTER_COLUMNS, flat, lang_code, ("Forløb", "Courses"), f"forloeb-{municipality}")


@router.get(
    "/homeless-list",
    response_model=HomelessListOut,
    responses=downloads("the by-name list (format=json), or as CSV or an XLSX workbook") | error_responses(403, 422),
)
async def get_homeless_list(
    request: Request,
    principal: Caller,
    municipality: Annotated[MunicipalityCode, Query()],
    team: Identifier | None = None,
    on: Annotated[
        date | None, Query(description="the day (default today); inflow/outflow from its month's first")
    ] = None,
    sort: Annotated[
        HomelessSort,
        Query(description="days_homeless: longest first; ready_to_move: ready first; inflow: new this month first"),
    ] = "days_homeless",
    as_of: Annotated[date | None, Query(description="as known at the end of that day (UTC)")] = None,
    format: Format = Format.JSON,  # noqa: A002
    lang: Annotated[Language, Query(description="csv and xlsx: headers, labels, CSV separators")] = Language.DA,
) -> dict[str, Any] | Response:
    """Every citizen actively homeless on `on` (O11's rule): situation, days homeless, whether assessed
    ready to move, their active courses, and whether they entered the list this month; the month's
    inflow (new, returned) and outflow (housed, other). A team: the citizens with a course of it."""
    access.allow(principal, municipality, "team_leader", "manager")
    _dates_in_window(request, on=on, as_of=as_of)
    team = access.team_filter(principal, team)
    day = on or request.app.state.clock.today()
    subject_type, subject_id = _list_subject(principal, municipality, team)
    await audited_read(
        request,
        principal,
        action="read_homeless_list",
        municipality=municipality,
        subject_type=subject_type,
        subject_id=subject_id,
        filter=_given(team=team, on=on, sort=sort, as_of=as_of, format=format),
    )
    history = await store.history(request.app.state.pool, municipality, as_of)
    listed = homeless_list(history, day, team, sort)
    result = {"municipality": municipality, "team": team, "sort": sort, "as_of": as_of.isoformat() if as_of else None}
    result |= listed
    if format == Format.JSON:
        return result
    lang_code = language_code(lang)
    flat = [_flat_citizen(c, lang_code) for c in listed["citizens"]]
    sheet = ("By-name-liste", "By-name list")
    return list_download(format, HOMELESS_COLUMNS, flat, lang_code, sheet, f"by-name-liste-{municipality}")


# --- exports: one flat row per course or citizen, with Danish or English labels ----------------------

ROSTER_COLUMNS: list[export.Column] = [
    ("course", "Forløb", "Course"),
    ("citizen", "Borger (pseudonym)", "Citizen (pseudonym)"),
    ("method", "Metode", "Method"),
    ("team", "Team", "Team"),
    ("worker", "Medarbejder", "Worker"),
    ("state", "Tilstand", "State"),
    ("start", "Start", "Start"),
    ("phase", "Fase", "Phase"),
    ("phase_ends_on", "Fasen slutter", "Phase ends"),
    ("phase_days_left", "Dage tilbage af fasen", "Days left of the phase"),
    ("last_face_to_face_on", "Seneste personlige kontakt", "Last face-to-face contact"),
    ("days_since_contact", "Dage siden kontakt", "Days since contact"),
    ("contact_every_days", "Kontakt-norm (dage)", "Contact norm (days)"),
    ("hours_actual", "Timer brugt", "Hours used"),
    ("hours_expected", "Timer forventet", "Hours expected"),
    ("hours_gap", "Afvigelse (timer)", "Gap (hours)"),
    ("hours_gap_percent", "Afvigelse (%)", "Gap (%)"),
    ("measurement", "Seneste måling", "Latest measurement"),
    ("measurement_value", "Måling", "Value"),
    ("measurement_expected", "Forventet", "Expected"),
    ("measurement_on", "Målt", "Measured on"),
    ("housing", "Bolig", "Housing"),
    ("next_due", "Næste", "Next due"),
    ("next_due_on", "Forfalder", "Due on"),
    ("next_due_days_left", "Dage til", "Days left"),
]
STATES = {"active": ("aktivt", "active"), "ended": ("afsluttet", "ended"), "planned": ("visiteret", "planned")}
DUE_KINDS = {
    "measurement": ("Måling", "Measurement"),
    "follow_up": ("Opfølgning", "Follow-up"),
    "contact": ("Personlig kontakt", "Face-to-face contact"),
    "handleplan": ("Handleplan (§141)", "Handleplan (§141)"),
    "phase_change": ("Faseskift", "Phase change"),
    "course_end": ("Forløbet slutter", "Course ends"),
}
FLOWS = {"new": ("ny", "new"), "returned": ("vendt tilbage", "returned")}


def _text(pair: tuple[str, str], lang: Literal["da", "en"]) -> str:
    return pair[0] if lang == "da" else pair[1]


def _flat_row(r: dict[str, Any], lang: Literal["da", "en"]) -> dict[str, Any]:
    phase, contact, hours = r["phase"] or {}, r["contact"], r["hours"]
    measurement, due, situation = r["measurement"] or {}, r["next_due"] or {}, r["housing"]["situation"]
    return {
        "course": r["course"],
        "citizen": r["citizen"],
        "method": code_label(Method(r["method"]), lang),
        "team": r["team"],
        "worker": r["worker"],
        "state": _text(STATES[r["state"]], lang),
        "start": day_or_none(r["start"]),
        "phase": code_label(CtiPhase(phase["phase"]), lang) if phase else None,
        "phase_ends_on": day_or_none(phase.get("ends_on")),
        "phase_days_left": phase.get("days_left"),
        "last_face_to_face_on": day_or_none(contact["last_face_to_face_on"]),
        "days_since_contact": contact["days_since"],
        "contact_every_days": contact["every_days"],
        "hours_actual": hours["actual"],
        "hours_expected": hours["expected"],
        "hours_gap": hours["gap"],
        "hours_gap_percent": hours["gap_percent"],
        "measurement": code_label(Instrument(measurement["instrument"]), lang) if measurement else None,
        "measurement_value": measurement.get("value"),
        "measurement_expected": measurement.get("expected"),
        "measurement_on": day_or_none(measurement.get("on")),
        "housing": code_label(HousingSituation(situation), lang) if situation else None,
        "next_due": _text(DUE_KINDS[due["kind"]], lang) if due else None,
        "next_due_on": day_or_none(due.get("due_on")),
        "next_due_days_left": due.get("days_left"),
    }


HOMELESS_COLUMNS: list[export.Column] = [
    ("citizen", "Borger (pseudonym)", "Citizen (pseudonym)"),
    ("situation", "Situation", "Situation"),
    ("homeless_since", "Hjemløs siden", "Homeless since"),
    ("days_homeless", "Dage i hjemløshed", "Days homeless"),
    ("ready_to_move", "Klar til bolig", "Ready to move"),
    ("ready_to_move_on", "Vurderet klar", "Assessed ready on"),
    ("courses", "Forløb", "Courses"),
    ("inflow", "Tilgang i måneden", "Inflow this month"),
]


def _flat_citizen(c: dict[str, Any], lang: Literal["da", "en"]) -> dict[str, Any]:
    return {
        "citizen": c["citizen"],
        "situation": code_label(HousingSituation(c["situation"]), lang) if c["situation"] else None,
        "homeless_since": day_or_none(c["homeless_since"]),
        "days_homeless": c["days_homeless"],
        "ready_to_move": _text(("ja", "yes") if c["ready_to_move"] else ("nej", "no"), lang),
        "ready_to_move_on": day_or_none(c["ready_to_move_on"]),
        "courses": ", ".join(f"{x['course']} ({code_label(Method(x['method']), lang)})" for x in c["courses"]),
        "inflow": _text(FLOWS[c["inflow"]], lang) if c["inflow"] else None,
    }
