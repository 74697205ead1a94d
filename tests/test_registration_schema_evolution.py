"""Events stored before a schema change are read through their upcaster: HousingLost v1 (written
by the first release, which did not say which home was lost) reads as v2 with `unknown`."""

from eventsourcing.persistence import StoredEvent

from contracts.facts import fact_adapter
from services.registration.application import Registration
from services.registration.domain.citizen import citizen_uuid

TOPIC = "services.registration.domain.citizen:Citizen."
# Exactly as the first release stored them (captured from commit d969d7b).
V1_EVENTS = [
    (
        "CitizenRegistered",
        b'{"timestamp":{"_type_":"datetime_iso","_data_":"2026-11-28T12:01:50.878305+00:00"},"originator_topic":"services.registration.domain.citizen:Citizen","fact":{"_type_":"fact:CitizenRegistered","_data_":{"municipality":"101","effective_date":"2026-01-01","citizen_id":"c-v1","type":"CitizenRegistered","birth_year":null,"gender":"unknown","target_groups":[]}},"recorded_by":"fagsystem-101"}',
    ),
    (
        "HousingGained",
        b'{"timestamp":{"_type_":"datetime_iso","_data_":"2026-11-28T12:01:50.878760+00:00"},"fact":{"_type_":"fact:HousingGained","_data_":{"municipality":"101","effective_date":"2026-02-01","citizen_id":"c-v1","type":"HousingGained","housing":"almen"}},"recorded_by":"fagsystem-101"}',
    ),
    (
        "HousingLost",
        b'{"timestamp":{"_type_":"datetime_iso","_data_":"2026-11-28T12:01:50.879091+00:00"},"fact":{"_type_":"fact:HousingLost","_data_":{"municipality":"101","effective_date":"2026-03-01","citizen_id":"c-v1","type":"HousingLost","reason":"eviction"}},"recorded_by":"fagsystem-101"}',
    ),
]


def app_with_v1_events() -> Registration:
    app = Registration(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    citizen = citizen_uuid("101", "c-v1")
    app.recorder.insert_events(
        [
            StoredEvent(originator_id=citizen, originator_version=version, topic=TOPIC + name, state=state)
            for version, (name, state) in enumerate(V1_EVENTS, start=1)
        ]
    )
    return app


def test_v1_housing_lost_reads_as_v2_with_unknown_home() -> None:
    app = app_with_v1_events()
    lost = app.history("c-v1", "101")[-1]
    assert lost.fact.type == "HousingLost"
    assert lost.schema_version == 2
    assert lost.fact.lost_housing == "unknown"
    assert lost.fact.reason == "eviction"


def test_a_citizen_with_v1_events_goes_on_with_v2() -> None:
    app = app_with_v1_events()

    def fact(**fields):
        return fact_adapter.validate_python({"municipality": "101", "citizen_id": "c-v1"} | fields)

    app.record(fact(type="HousingGained", effective_date="2026-04-01", housing="skaev"), "t")
    app.record(fact(type="HousingLost", effective_date="2026-05-01", reason="left"), "t")
    events = app.history("c-v1", "101")
    assert [(e.fact.type, e.schema_version) for e in events] == [
        ("CitizenRegistered", 1),
        ("HousingGained", 1),
        ("HousingLost", 2),
        ("HousingGained", 1),
        ("HousingLost", 2),
    ]
    assert events[-1].fact.lost_housing == "skaev"
    stored = app.recorder.select_events(citizen_uuid("101", "c-v1"))[-1].state
    assert b'"class_version":2' in stored and b'"lost_housing":"skaev"' in stored
