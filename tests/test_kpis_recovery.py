"""O16, the Recovery Star as an outcome, on a small fixed scenario: the baseline counted from the
day contact was established, a backdated measurement and an `as_of` query."""

import pytest

from contracts.instruments import RECOVERY_STAR_AREAS
from contracts.methods import recovery_star_band
from tests.kpi_scenario import Scenario, figure, kpi_pool  # noqa: F401 - fixture

pytestmark = pytest.mark.integration


def star(step: int, **areas: int) -> dict[str, int]:
    """A Recovery Star answer: every life area on `step`, but the areas named."""
    return {area: areas.get(area, step) for area in RECOVERY_STAR_AREAS}


def test_the_ladder_bands() -> None:
    assert [recovery_star_band(step) for step in range(1, 11)] == [
        *["stuck"] * 2,
        *["accepting_help"] * 2,
        *["believing"] * 2,
        *["learning"] * 2,
        *["self_reliance"] * 2,
    ]


async def test_o16_recovery_star_from_contact_established(kpi_pool) -> None:
    s = Scenario()

    def measured(citizen: str, day: str, answers: dict[str, int], **kw) -> None:
        s.fact(
            "MeasurementRecorded",
            day,
            citizen=citizen,
            course=f"k-{citizen}",
            instrument="RECOVERY_STAR",
            answers=answers,
            **kw,
        )

    def contact(citizen: str, day: str, kind: str) -> None:
        s.fact("ContactRecorded", day, citizen=citizen, course=f"k-{citizen}", minutes=30, kind=kind)

    for citizen in ("r1", "r2", "r3", "r4"):
        s.course(citizen, f"k-{citizen}", "ICM", "2026-01-05")
        if citizen != "r4":  # r4 has not consented: never counted
            s.fact("ConsentGiven", "2026-01-05", citizen=citizen, scope="outcome_measurements")
    # r1: a star before contact (all 2) is no baseline; an attempt does not establish contact.
    measured("r1", "2026-01-06", star(2))
    contact("r1", "2026-01-07", "attempted")
    contact("r1", "2026-01-20", "face_to_face")  # contact established
    measured("r1", "2026-01-21", star(3))  # the baseline
    measured("r1", "2026-05-01", star(4, mental_health=5, physical_health_self_care=3, living_skills=2))
    # r2: contact by phone; the latest star told late.
    contact("r2", "2026-01-10", "phone_digital")
    measured("r2", "2026-01-12", star(5))
    measured("r2", "2026-06-01", star(5, trust_hope=9), recorded="2026-07-10")
    # r3: measured once (ladder only).
    contact("r3", "2026-02-01", "face_to_face")
    measured("r3", "2026-02-02", star(1))
    contact("r4", "2026-01-10", "face_to_face")
    measured("r4", "2026-01-11", star(1))
    measured("r4", "2026-03-01", star(10))
    await s.apply(kpi_pool)

    o16 = await figure(kpi_pool, "O16", "2026-01-01", "2026-06-30")
    v = o16["values"]
    # r1 (baseline all 3): mental 5 up, physical 3 unchanged, living 2 down, 7 areas at 4 up -> 8 up.
    # r2 (baseline all 5): trust and hope 9 up, 9 areas unchanged -> 1 up. 9 up of 2 x 10 = 0.45.
    assert (o16["value"], o16["numerator"], o16["denominator"], v["measured_twice"]) == (0.45, 9, 20, 2)
    # mental health: r1 +2, r2 0; living skills: r1 -1, r2 0; trust and hope: r1 +1, r2 +4.
    assert (v["mental_health.up"], v["mental_health.unchanged"], v["mental_health.change"]) == (0.5, 0.5, 1.0)
    assert (v["living_skills.down"], v["living_skills.unchanged"], v["living_skills.change"]) == (0.5, 0.5, -0.5)
    assert (v["trust_hope.up"], v["trust_hope.change"]) == (1.0, 2.5)
    # Latest answers (10 per course): r1 5, 3, 2 and seven 4s; r2 nine 5s and a 9; r3 ten 1s.
    # stuck 1 + 10, accepting help 1 + 7, believing 1 + 9, learning 0, self-reliance 1 = 30.
    ladder = [v[f"ladder.{band}"] for band in ("stuck", "accepting_help", "believing", "learning", "self_reliance")]
    assert ladder == [11, 8, 10, 0, 1]
    assert o16["citizens"] == 3  # r1, r2, r3; r4 without consent

    # Known on 1 July, r2's latest star was not: r1 alone, 8 of 10 up; r2's baseline in the ladder.
    o16 = await figure(kpi_pool, "O16", "2026-01-01", "2026-06-30", as_of="2026-07-01")
    v = o16["values"]
    assert (o16["value"], v["measured_twice"], v["ladder.believing"], v["ladder.self_reliance"]) == (0.8, 1, 11, 0)
