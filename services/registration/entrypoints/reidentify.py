"""The §110 stays file re-identified with CPR numbers (docs/exports.md): only inside registration,
only for the administrator's explicit export, every citizen's re-identification on the audit trail
before it is served, and never stored — the CPR numbers are unsealed from the citizens' personal
details for the answer alone (not written to a table, the bus or a log).

`POST /v1/exports/shelter-stays/reidentify?municipality=` takes the rows of the projections' stays
file (`GET /v1/exports/shelter-stays`, keyed by pseudonym) and answers the same rows with a `cpr`
column: null where no CPR number is kept (given as a pseudonymous id, or erased, or no such
citizen); each citizen re-identified is audited before the answer is served."""

import asyncio
import csv
import io
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from contracts.codes import HousingSituation, ShelterDischarge
from contracts.facts import Identifier, MunicipalityCode
from runtime.audit import audited_read
from runtime.auth import Principal, current_principal
from runtime.errors import error_responses
from services.registration.application import Registration
from services.registration.domain.rules import UnknownSubject
from services.registration.entrypoints.http import registration

router = APIRouter(prefix="/v1/exports")
CSV_ANSWER: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "the rows with CPR numbers (JSON), or with csv=true as CSV",
        "content": {"text/csv": {"schema": {"type": "string"}}},
    }
}
MAX_ROWS = 10_000


class StayRowIn(BaseModel):
    """A row of the stays file (shelter-stays/1, docs/exports.md), as the projections answer it."""

    model_config = ConfigDict(extra="forbid")

    citizen: Identifier
    shelter: Identifier
    check_in: date
    check_out: date | None = None
    discharge: ShelterDischarge | None = None
    destination: HousingSituation | None = None
    days_to_contact: int | None = Field(default=None, ge=0, le=100_000)
    ready_to_move_on: date | None = None


class StaysIn(BaseModel):
    version: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9./-]{0,39}$")] = Field(
        description="the stays file's version, e.g. shelter-stays/1"
    )
    rows: list[StayRowIn] = Field(max_length=MAX_ROWS)


class ReidentifiedOut(BaseModel):
    version: str
    municipality: str
    rows: list[dict[str, Any]] = Field(description="the rows given, each with `cpr` (null: none kept)")


def _cpr(app: Registration, citizen_id: str, municipality: str) -> str | None:
    try:
        details = app.personal_details(citizen_id, municipality)
    except UnknownSubject:
        return None
    return details.cpr if details else None


@router.post(
    "/shelter-stays/reidentify",
    response_model=ReidentifiedOut,
    responses=CSV_ANSWER | error_responses(400, 403, 422),
)
async def reidentify_stays(
    request: Request,
    body: StaysIn,
    municipality: Annotated[MunicipalityCode, Query()],
    principal: Annotated[Principal, Depends(current_principal)],
    app: Annotated[Registration, Depends(registration)],
    csv_out: Annotated[bool, Query(alias="csv", description="answer as CSV (the stays file's columns + cpr)")] = False,
) -> dict[str, Any] | Response:
    """The stays file with CPR numbers, for Danmarks Statistik: the administrator's only."""
    principal.ensure_admin()  # nobody but the administrator
    principal.ensure_municipality(municipality)
    citizens = sorted({row.citizen for row in body.rows})
    cprs = await asyncio.to_thread(lambda: {c: _cpr(app, c, municipality) for c in citizens})
    for citizen_id in (c for c in citizens if cprs[c] is not None):  # each re-identification audited first
        await audited_read(
            request,
            principal,
            action="reidentify_shelter_stays",
            municipality=municipality,
            subject_type="citizen",
            subject_id=citizen_id,
            filter={"version": body.version},
        )
    rows = [row.model_dump(mode="json") | {"cpr": cprs[row.citizen]} for row in body.rows]
    if not csv_out:
        return {"version": body.version, "municipality": municipality, "rows": rows}
    out = io.StringIO()
    columns = [*StayRowIn.model_fields, "cpr"]
    writer = csv.DictWriter(out, fieldnames=columns, delimiter=";", lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return Response(
        ("\ufeff" + out.getvalue()).encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="paragraf110-cpr-{municipality}.csv"'},
    )
