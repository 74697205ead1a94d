"""A batch asks PostgreSQL once which of the aggregates it registers already exist (not once per
fact); the rules against registering twice hold as before, also against a writer that stores one of
them between that question and the batch's save."""

from typing import Any

from services.registration.application import Receipt, Registration, postgres_env
from services.registration.domain.rules import RuleViolation
from tests.test_citizen_rules import f

TEAM = f("TeamRegistered", "2026-01-01", citizen=None, team_id="t1", name="CTI-team", methods=["CTI"])
WORKER = f("WorkerRegistered", "2026-01-02", citizen=None, worker_id="w1", team_id="t1", role="support_worker")
STOCK_Q1 = f("HousingStockReported", "2026-03-31", citizen=None, period_start="2026-01-01")
STOCK_Q2 = f("HousingStockReported", "2026-06-30", citizen=None, period_start="2026-04-01")


def registered(citizen: str) -> Any:
    return f("CitizenRegistered", "2026-01-01", citizen=citizen)


def reasons(outcomes: list[Any]) -> list[str]:
    return [
        "ok" if isinstance(o, Receipt) else o.rule.reason if isinstance(o, RuleViolation) else o.reason
        for o in outcomes
    ]


def test_registrations_in_a_batch_are_checked_against_the_store(database_url: str) -> None:
    app = Registration(env=postgres_env(database_url))
    try:
        first = app.record_batch([(fact, "t") for fact in (TEAM, WORKER, STOCK_Q1, registered("a"))])
        assert reasons(first) == ["ok"] * 4

        second = app.record_batch(
            [
                (fact, "t")
                for fact in (
                    registered("a"),
                    registered("b"),
                    registered("b"),
                    TEAM,
                    WORKER,
                    STOCK_Q2,
                    f("VisitationDecided", "2026-01-05", citizen="b", course_id="k1", method="CTI", team="t1"),
                )
            ]
        )
        assert reasons(second) == [
            "citizen_already_registered",
            "ok",
            "citizen_already_registered",
            "team_already_registered",
            "worker_already_registered",
            "ok",
            "ok",
        ]
        assert [e.fact.type for e in app.history("b", "101")] == ["CitizenRegistered", "VisitationDecided"]
        assert [e.fact.type for e in app.municipality_history("101")] == ["HousingStockReported"] * 2
    finally:
        app.close()


def test_a_registration_stored_by_another_writer_meanwhile_is_refused(database_url: str) -> None:
    app, other = Registration(env=postgres_env(database_url)), Registration(env=postgres_env(database_url))
    asked, questions = app._existing_of, []

    def asked_then_overtaken(facts: Any) -> dict[Any, bool]:
        known = asked(facts)
        questions.append(known)
        if len(questions) == 1:
            other.record(registered("c"), "other")  # stored after the question, before the save
        return known

    app._existing_of = asked_then_overtaken  # type: ignore[method-assign]
    try:
        outcomes = app.record_batch([(registered("c"), "t"), (registered("d"), "t")])
        assert reasons(outcomes) == ["citizen_already_registered", "ok"]
        assert [e.recorded_by for e in app.history("c", "101")] == ["other"]
        assert isinstance(outcomes[0], RuleViolation)
        assert [sorted(known.values()) for known in questions] == [[False, False], [False, True]]  # decided again
    finally:
        app.close()
        other.close()
