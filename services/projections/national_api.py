"""HTTP entrypoint of the national exports (national.py; schema in docs/exports.md): the VIVE
count-week snapshot and the quarterly §110 stays file, as JSON, CSV or XLSX. For a manager (and the
administrator); every export is one read on the audit trail, like the roster's list reads."""

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from contracts.codes import Gender, HousingSituation, ShelterDischarge
from contracts.facts import MunicipalityCode
from contracts.labels import code_label
from runtime import access
from runtime.audit import audited_read
from runtime.auth import Principal, current_principal
from runtime.errors import error_responses
from services.projections import export, store
from services.projections.api import Format, Language, _dates_in_window, day_or_none, language_code, list_download
from services.projections.national import shelter_stays, vive_count
from services.projections.responses import downloads

router = APIRouter(prefix="/v1/exports")
Caller = Annotated[Principal, Depends(current_principal)]


class Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ViveRowOut(Answer):
    situation: HousingSituation
    vive_category: int = Field(ge=1, le=9)
    age_band: str = Field(description="under_18, 18-24, 25-29, 30-39, 40-49, 50-59, 60+ or unknown")
    gender: Gender
    method: str = Field(description="the methods of the citizen's courses active in the week, or none")
    small_cell: bool = Field(description="fewer than 5 citizens share its situation, age band and gender")


class ViveSituationOut(Answer):
    situation: HousingSituation
    vive_category: int
    citizens: int
    small_cell: bool


class ViveCountOut(Answer):
    municipality: str
    as_of: str | None
    version: str
    week_start: str
    week_end: str
    citizens: int
    rows: list[ViveRowOut]
    by_situation: list[ViveSituationOut]


class StayRowOut(Answer):
    citizen: str = Field(description="the citizen's pseudonym (never a CPR number)")
    shelter: str
    check_in: str
    check_out: str | None
    discharge: ShelterDischarge | None
    destination: HousingSituation | None
    days_to_contact: int | None = Field(description="days from check-in to the municipality's contact")
    ready_to_move_on: str | None


class ShelterStaysOut(Answer):
    municipality: str
    as_of: str | None
    version: str
    quarter_start: str
    quarter_end: str
    stays: int
    rows: list[StayRowOut]


VIVE_COLUMNS: list[export.Column] = [
    ("vive_category", "VIVE-kategori", "VIVE category"),
    ("situation", "Situation", "Situation"),
    ("age_band", "Aldersgruppe", "Age band"),
    ("gender", "Køn", "Gender"),
    ("method", "Metode", "Method"),
    ("small_cell", "Under 5 i cellen", "Cell under 5"),
]
STAY_COLUMNS: list[export.Column] = [
    ("citizen", "Borger (pseudonym)", "Citizen (pseudonym)"),
    ("shelter", "Boform", "Shelter"),
    ("check_in", "Indskrevet", "Check-in"),
    ("check_out", "Udskrevet", "Check-out"),
    ("discharge", "Udskrivning", "Discharge"),
    ("destination", "Udskrevet til", "Destination"),
    ("days_to_contact", "Dage til kommunens kontakt", "Days to the municipality's contact"),
    ("ready_to_move_on", "Vurderet klar til bolig", "Assessed ready to move"),
]
YES_NO = {True: ("ja", "yes"), False: ("nej", "no")}


@router.get(
    "/vive-count",
    response_model=ViveCountOut,
    responses=downloads("the snapshot (format=json), or as CSV or an XLSX workbook") | error_responses(403, 422),
)
async def get_vive_count(
    request: Request,
    principal: Caller,
    municipality: Annotated[MunicipalityCode, Query()],
    week: Annotated[date, Query(description="a day of the count week (Monday to Sunday)")],
    as_of: Annotated[date | None, Query(description="as known at the end of that day (UTC)")] = None,
    format: Format = Format.JSON,  # noqa: A002
    lang: Annotated[Language, Query(description="csv and xlsx: headers, labels, CSV separators")] = Language.DA,
) -> dict[str, Any] | Response:
    """VIVE's count-week snapshot (docs/exports.md, version vive-count/1): one row per citizen
    homeless in the week, with situation, age band, gender and method; no identifier; cells under 5
    flagged."""
    access.allow(principal, municipality, "manager")
    _dates_in_window(request, week=week, as_of=as_of)
    given = {"week": week.isoformat(), "format": format.value} | ({"as_of": as_of.isoformat()} if as_of else {})
    await audited_read(
        request,
        principal,
        action="export_vive_count",
        municipality=municipality,
        subject_type="municipality",
        subject_id=municipality,
        filter=given,
    )
    history = await store.history(request.app.state.pool, municipality, as_of)
    result = {"municipality": municipality, "as_of": as_of.isoformat() if as_of else None} | vive_count(history, week)
    if format == Format.JSON:
        return result
    lang_code = language_code(lang)
    flat = [
        r
        | {
            "situation": code_label(HousingSituation(r["situation"]), lang_code),
            "gender": code_label(Gender(r["gender"]), lang_code),
            "small_cell": YES_NO[r["small_cell"]][0 if lang_code == "da" else 1],
        }
        for r in result["rows"]
    ]
    name = f"vive-optaelling-{municipality}-{result['week_start']}"
    return list_download(format, VIVE_COLUMNS, flat, lang_code, ("VIVE-optælling", "VIVE count"), name)


@router.get(
    "/shelter-stays",
    response_model=ShelterStaysOut,
    responses=downloads("the stays (format=json), or as CSV or an XLSX workbook") | error_responses(403, 422),
)
async def get_shelter_stays(
    request: Request,
    principal: Caller,
    municipality: Annotated[MunicipalityCode, Query()],
    quarter: Annotated[date, Query(description="a day of the quarter")],
    as_of: Annotated[date | None, Query(description="as known at the end of that day (UTC)")] = None,
    format: Format = Format.JSON,  # noqa: A002
    lang: Annotated[Language, Query(description="csv and xlsx: headers, labels, CSV separators")] = Language.DA,
) -> dict[str, Any] | Response:
    """The quarter's §110 stays file (docs/exports.md, version shelter-stays/1), keyed by pseudonym."""
    access.allow(principal, municipality, "manager")
    _dates_in_window(request, quarter=quarter, as_of=as_of)
    given = {"quarter": quarter.isoformat(), "format": format.value} | ({"as_of": as_of.isoformat()} if as_of else {})
    await audited_read(
        request,
        principal,
        action="export_shelter_stays",
        municipality=municipality,
        subject_type="municipality",
        subject_id=municipality,
        filter=given,
    )
    history = await store.history(request.app.state.pool, municipality, as_of)
    result: dict[str, Any] = {"municipality": municipality, "as_of": as_of.isoformat() if as_of else None}
    result |= shelter_stays(history, quarter)
    if format == Format.JSON:
        return result
    lang_code = language_code(lang)
    flat = [
        r
        | {
            "check_in": day_or_none(r["check_in"]),
            "check_out": day_or_none(r["check_out"]),
            "ready_to_move_on": day_or_none(r["ready_to_move_on"]),
            "discharge": code_label(ShelterDischarge(r["discharge"]), lang_code) if r["discharge"] else None,
            "destination": code_label(HousingSituation(r["destination"]), lang_code) if r["destination"] else None,
        }
        for r in result["rows"]
    ]
    name = f"paragraf110-ophold-{municipality}-{result['quarter_start']}"
    return list_download(format, STAY_COLUMNS, flat, lang_code, ("§110-ophold", "§110 stays"), name)
