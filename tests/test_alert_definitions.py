"""The three rule definitions docs/domain.md §8 clarified, through the alerts handlers and poller on a
real PostgreSQL: how long a §110 stay may last for a citizen ready to move, which course endings a
follow-up is due after, and a §110 stay that ends into an own home counting as housing gained."""

from collections.abc import AsyncIterator

import pytest

from services.alerts import evaluation, rules
from tests.alerts_support import Alerts, alerts_database, course_opened, days, fact
from tests.test_alert_rules import D0

pytestmark = pytest.mark.integration


@pytest.fixture
async def alerts(postgres_admin_url: str) -> AsyncIterator[Alerts]:
    async with alerts_database(postgres_admin_url, D0) as alerts:
        yield alerts


async def _open(alerts: Alerts, rule: str) -> list[str]:
    return sorted(a["subject_id"] for a in await alerts.alerts(rule, state="open"))


async def test_a_citizen_ready_to_move_is_long_in_the_stay_90_days_after_its_start(alerts: Alerts) -> None:
    """r1 is assessed ready early, r2 only on day 100 of the stay, r3 never: 90 days from the stay's
    start for the ready (at once for r2, whose stay is already longer), 120 for any stay."""
    await alerts.play(
        [
            (D0, fact("ShelterStayStarted", D0, "r1", shelter="herberg-1")),
            (D0, fact("ShelterStayStarted", D0, "r2", shelter="herberg-1")),
            (D0, fact("ShelterStayStarted", D0, "r3", shelter="herberg-1")),
            (D0 + days(20), fact("AssessedReadyToMove", D0 + days(20), "r1")),
        ]
    )
    await alerts.tick(D0 + days(89))
    assert await _open(alerts, "shelter_stay_long") == []
    await alerts.tick(D0 + days(90))
    assert await _open(alerts, "shelter_stay_long") == ["r1"]
    [r1] = await alerts.alerts("shelter_stay_long")
    assert r1["details"] == {"reason": "ready_to_move", "stay_started": D0.isoformat()}
    await alerts.play([(D0 + days(100), fact("AssessedReadyToMove", D0 + days(100), "r2"))])
    assert await _open(alerts, "shelter_stay_long") == ["r1", "r2"]
    await alerts.tick(D0 + days(119))
    assert await _open(alerts, "shelter_stay_long") == ["r1", "r2"]
    await alerts.tick(D0 + days(120))
    assert await _open(alerts, "shelter_stay_long") == ["r1", "r2", "r3"]


async def test_a_follow_up_is_due_only_after_a_course_the_citizen_left(alerts: Alerts) -> None:
    """Completed or no longer needs support: followed up. Revisitation to another method, death,
    moving away, lost contact: nothing to follow up, so no alert."""
    ended = D0 + days(30)
    endings = {
        "k1": "completed",
        "k2": "no_longer_needs_support",
        "k3": "needs_other_support",
        "k4": "died",
        "k5": "moved",
        "k6": "contact_lost",
    }
    timeline = []
    for n, (course, reason) in enumerate(endings.items()):
        timeline += [(D0, one) for one in course_opened(f"c{n}", course, "ICM", D0)]
        timeline.append((ended, fact("CourseEnded", ended, f"c{n}", course, reason=reason, follow_on_offer="hoej")))
    await alerts.play(timeline)
    for months in (6, 9, 12):
        await alerts.tick(rules.add_months(ended, months) + days(31))
    due = {(a["subject_id"], a["details"]["months_after_end"]) for a in await alerts.alerts("follow_up_due")}
    assert due == {(course, months) for course in ("k1", "k2") for months in (6, 9, 12)}


async def test_a_shelter_stay_that_ends_into_an_own_home_is_housing_gained(alerts: Alerts) -> None:
    """As the KPIs count it (the stay's destination is the citizen's housing): CTI phase 1 is no
    longer without housing, and a lost home is regained. A destination that is not an own home is not."""
    cti = lambda citizen, course: [  # noqa: E731
        (D0, one)
        for one in course_opened(citizen, course, "CTI", D0)
        + [
            fact("ShelterStayStarted", D0, citizen, shelter="herberg-1"),
            fact("CtiPhaseStarted", D0, citizen, course, phase="1"),
        ]
    ]
    await alerts.play(
        cti("c1", "k1")
        + cti("c2", "k2")
        + cti("c3", "k3")
        + [
            # c1 moves from the shelter into an almen home before the 30 days have passed.
            (D0 + days(10), fact("ShelterStayEnded", D0 + days(10), "c1", discharge="planned", destination="almen")),
        ]
    )
    await alerts.tick(D0 + days(31))
    assert await _open(alerts, "cti_started_without_housing") == ["k2", "k3"]
    # c2 moves into a private rental once the alert is open; c3 leaves for the street.
    await alerts.play(
        [
            (
                D0 + days(40),
                fact("ShelterStayEnded", D0 + days(40), "c2", discharge="planned", destination="private_rental"),
            ),
            (D0 + days(40), fact("ShelterStayEnded", D0 + days(40), "c3", discharge="unplanned", destination="street")),
        ]
    )
    assert await _open(alerts, "cti_started_without_housing") == ["k3"]
    [resolved] = await alerts.alerts("cti_started_without_housing", state="resolved")
    assert resolved["subject_id"] == "k2"

    # c2 loses the home during the course, goes back to a shelter, and leaves it for a skæv bolig.
    await alerts.play(
        [
            (D0 + days(60), fact("HousingLost", D0 + days(60), "c2", reason="eviction")),
            (D0 + days(61), fact("ShelterStayStarted", D0 + days(61), "c2", shelter="herberg-1")),
        ]
    )
    assert await _open(alerts, "housing_lost") == ["c2"]
    await alerts.play(
        [(D0 + days(80), fact("ShelterStayEnded", D0 + days(80), "c2", discharge="planned", destination="skaev"))]
    )
    assert await _open(alerts, "housing_lost") == []


async def test_a_rule_whose_definition_changed_looks_at_every_subject_again_once(alerts: Alerts) -> None:
    """A deadline worked out under an earlier definition is not left standing after an upgrade."""
    assert len(await evaluation.catch_up_changed_rules(alerts.pool, alerts.clock.now())) == len(rules.CATALOGUE)
    await alerts.play(
        [
            (D0, fact("ShelterStayStarted", D0, "r1", shelter="herberg-1")),
            (D0 + days(5), fact("AssessedReadyToMove", D0 + days(5), "r1")),
        ]
    )
    # As the earlier definition left it: due 91 days after the assessment.
    await alerts.pool.execute("UPDATE alert_deadlines SET due_on = $1 WHERE rule = 'shelter_stay_long'", D0 + days(96))
    await alerts.pool.execute(
        "UPDATE alert_rule_definitions SET fingerprint = 'earlier' WHERE rule = 'shelter_stay_long'"
    )
    await alerts.tick(D0 + days(90))
    assert await _open(alerts, "shelter_stay_long") == []
    assert await evaluation.catch_up_changed_rules(alerts.pool, alerts.clock.now()) == ["shelter_stay_long"]
    assert await _open(alerts, "shelter_stay_long") == ["r1"]
    assert await evaluation.catch_up_changed_rules(alerts.pool, alerts.clock.now()) == []
