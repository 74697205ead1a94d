"""Who may do what: the permission table of every HTTP and NATS operation, and the scopes within it.

The table (README "Roles and scopes" has it too):

    operation                                   client  support_worker  team_leader  manager  admin
    submit facts (HTTP, NATS)                   own m.  -               -            -        all
    submit course facts (HTTP only)             own m.  own courses     team's       -        all
    citizen/course history (registration)       own m.  own citizens    team's       -        all
    personal details of a citizen               -       own citizens    team's       -        all
    team history                                own m.  -               own team     -        all
    worker history                              own m.  themselves      -            -        all
    municipality history (housing stock)        own m.  -               -            own m.   all
    KPIs, KPI export                            -       -               own team,    own m.   all
                                                                        own m. whole
    benchmark, targets                          -       -               -            own m.   all
    double bottom line of a course              -       own courses     team's       -        all
    median time plan                            -       own team        own team     own m.   all
    course roster (GET /v1/courses)             -       own courses     team's       own m.   all
    by-name list (GET /v1/homeless-list)        -       -               team's       own m.   all
    data quality (GET /v1/data-quality)         -       own courses     team's       own m.   all
    national exports (GET /v1/exports/...)      -       -               -            own m.   all
    investment calculation, price books         -       -               -            own m.   all
    §110 stays re-identified with CPR (POST)    -       -               -            -        all
    import history (POST /v1/import)            -       -               -            -        all
    alerts (list, stream, by id)                -       -               own team     own m.   all
    alerts (acknowledge, snooze, resolve)       -       -               own team     -        all
    rules (read)                                -       -               own m.       own m.   all
    rules (configure)                           -       -               -            own m.   all
    clock (set), audit trail                    -       -               -            -        all
    answer a survey round (docs/surveys.md)     -       own team        own team     own m.   all
    partner meeting                             -       -               own team     -        all
    organisational indicators                   -       own team        own team     own m.   all

Erasure is the fact CitizenErased: submitted like any fact, by the case system.

"course facts": what no case system holds and the support workers record themselves from the
course page (PERSON_FACTS: contacts, time plans, expected progression, measurements, follow-ups,
phase changes, whose method rules registration checks as for any fact, and the withdrawal of such
a fact entered by mistake). Every other fact stays with the case system's token, and the bus
(`casetrack.facts.submit`) stays the case systems' only.

"own citizens"/"own courses": a course of which the worker is the (current) support worker;
"team's": a course of the leader's team. A caller limited to some objects gets the same 403
(reason `forbidden`) for an object out of their scope as for one that does not exist, so the answer
never tells whether it exists; callers who may see every object of the municipality get 404.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from runtime.auth import Principal, Role
from runtime.errors import ApiError

# Roles that see only some objects of their municipality.
SCOPED_ROLES: frozenset[Role] = frozenset({"support_worker", "team_leader"})


def forbidden() -> ApiError:
    return ApiError(403, "forbidden", "Adgang nægtet.", "Forbidden.")


def allow(principal: Principal, municipality: str, *roles: Role) -> None:
    """The caller has one of the roles (or is the administrator) and is of the municipality."""
    principal.ensure_role(*roles)
    principal.ensure_municipality(municipality)


@dataclass(frozen=True)
class CourseScope:
    team: str
    support_worker: str | None


def in_scope(principal: Principal, course: CourseScope) -> bool:
    if principal.role == "support_worker":
        return principal.worker is not None and course.support_worker == principal.worker
    if principal.role == "team_leader":
        return course.team == principal.team
    return True


def ensure_course(principal: Principal, course: CourseScope | None) -> None:
    """403 for a course out of a scoped caller's reach, and for one that does not exist."""
    if principal.role in SCOPED_ROLES and (course is None or not in_scope(principal, course)):
        raise forbidden()


def ensure_citizen(principal: Principal, courses: Iterable[CourseScope] | None) -> None:
    """A scoped caller reaches a citizen through one of the citizen's courses; None: no such citizen."""
    if principal.role in SCOPED_ROLES and (courses is None or not any(in_scope(principal, c) for c in courses)):
        raise forbidden()


# The facts a support worker may submit for their own courses and a team leader for the team's.
PERSON_FACTS: frozenset[str] = frozenset(
    {
        "ContactRecorded",
        "TimePlanned",
        "ExpectedProgressionSet",
        "MeasurementRecorded",
        "FollowUpRecorded",
        "CtiPhaseStarted",
        "OutreachPhaseStarted",
        "FactWithdrawn",
    }
)
# Who submits facts at all: over HTTP, and over the bus (the case systems only).
FACT_SUBMITTERS: tuple[Role, ...] = ("client", "support_worker", "team_leader")
BUS_FACT_SUBMITTERS: tuple[Role, ...] = ("client",)


def fact_type_forbidden(fact_type: str) -> ApiError:
    return ApiError(
        403,
        "fact_type_forbidden",
        f"Du må ikke registrere {fact_type}: det gør kommunens fagsystem.",
        f"You may not submit {fact_type}: the municipality's case system does.",
        [{"field": "type", "problem": "submitted by the case system only", "type": "fact_type_forbidden"}],
    )


def ensure_may_submit(principal: Principal, fact_type: str, course: CourseScope | None) -> None:
    """A support worker or team leader submits PERSON_FACTS about a course in their scope (`course`:
    the course as registered, None when there is no such course): another fact type is
    `403 fact_type_forbidden`; a course out of reach, or none, `403 forbidden` alike."""
    if principal.role not in SCOPED_ROLES:
        return
    if fact_type not in PERSON_FACTS:
        raise fact_type_forbidden(fact_type)
    if course is None or not in_scope(principal, course):
        raise forbidden()


def hides_existence(principal: Principal) -> bool:
    """Whether 'not found' must be answered as 403 for this caller."""
    return principal.role in SCOPED_ROLES


def team_filter(principal: Principal, team: str | None) -> str | None:
    """The team a list or figure is limited to: a team leader's own team, whatever was asked."""
    if principal.role != "team_leader":
        return team
    if team is not None and team != principal.team:
        raise forbidden()
    return principal.team
