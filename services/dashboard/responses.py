"""What the dashboard's own JSON endpoints answer, as its OpenAPI document describes them."""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from runtime.auth import Role
from runtime.errors import ErrorBody


class SessionOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    role: Role
    municipality: str | None = Field(description="null for the administrator")
    team: str | None
    worker: str | None = Field(description="a support worker's (or team leader's) own worker id")


Pair = list[str]  # [Danish, English]


class LabelsOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    codes: dict[str, dict[str, Pair]] = Field(description="code list -> code -> [Danish, English]")
    facts: dict[str, Pair] = Field(description="fact type -> [Danish, English]")


# The proxy passes on whatever the service answered (status, JSON, CSV, XLSX or a live stream);
# its own refusals have the shared error body.
PROXIED: dict[int | str, dict[str, Any]] = {
    "default": {
        "description": "the service's answer as it gave it: see that service's own document (/openapi.json)",
        "content": {"*/*": {}},
    },
    401: {"model": ErrorBody, "description": "not logged in (login_required)"},
    403: {"model": ErrorBody, "description": "a state-changing request from another origin (cross_origin_refused)"},
    404: {"model": ErrorBody, "description": "not a service's API path (not_found, service_not_found)"},
    503: {"model": ErrorBody, "description": "the service does not answer (service_unavailable)"},
}
