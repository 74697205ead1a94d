"""The methods' norms and calendar are defined once, in contracts/methods.py, and every service takes
them from there: change a norm in that one file and registration, the projections' fold and KPIs,
the alert rules' defaults and the demo all follow. A service that kept its own copy would not."""

import re
import subprocess
import sys
from datetime import date
from pathlib import Path

from contracts.methods import add_months

ROOT = Path(__file__).resolve().parents[1]
METHODS = ROOT / "contracts" / "methods.py"

# One edit of contracts/methods.py per norm: (as it stands, as the test changes it).
CHANGES = [
    ("CTI_PHASE_MONTHS = 3 ", "CTI_PHASE_MONTHS = 4 "),  # so CTI_MONTHS = 12
    (
        "{Method.CTI: 12, Method.ICM: 8, Method.ACT: 10, Method.SEL85: 50}",
        "{Method.CTI: 13, Method.ICM: 9, Method.ACT: 11, Method.SEL85: 51}",
    ),
    ("HANDLEPLAN_DAYS = 30 ", "HANDLEPLAN_DAYS = 40 "),
    ("FOLLOW_UP_MONTHS: tuple[int, ...] = (6, 9, 12)", "FOLLOW_UP_MONTHS: tuple[int, ...] = (6, 9, 12, 24)"),
    ("FOLLOW_UP_WINDOW_DAYS = 30 ", "FOLLOW_UP_WINDOW_DAYS = 31 "),
    ("(Method.ICM, None): 14,", "(Method.ICM, None): 15,"),
    ("(Method.ACT, None): 3,", "(Method.ACT, None): 2,"),
    ("SHELTER_LONG_STAY_DAYS = 120 ", "SHELTER_LONG_STAY_DAYS = 100 "),
    ("WHO5_POOR = 50 ", "WHO5_POOR = 60 "),
    ("WHO5_DEPRESSION = 28 ", "WHO5_DEPRESSION = 32 "),
    ("UCLA3_LONELY_THRESHOLD = 7 ", "UCLA3_LONELY_THRESHOLD = 8 "),
    (
        "        HousingSituation.SKAEV,\n        HousingSituation.SHARED_SUPPORTED,",
        "        HousingSituation.SHARED_SUPPORTED,",
    ),
]

# Runs in a fresh interpreter with the changed contracts/methods.py in place of the real one.
CHECKS = """
import sys, types
from datetime import date, datetime, timezone

import contracts
methods = types.ModuleType("contracts.methods")
methods.__file__ = sys.argv[1]
sys.modules["contracts.methods"] = contracts.methods = methods
exec(compile(open(sys.argv[1], encoding="utf-8").read(), sys.argv[1], "exec"), methods.__dict__)

from casetrack import demo
from contracts.codes import HousingSituation, Method
from contracts.facts import fact_adapter
from services.alerts import rules
from services.projections.history import Record, fold
from services.projections.kpis import CATALOGUE, Context, Params, Window
from services.registration.application import Registration
from contracts.methods import add_months, housing_group

def fact(kind, day, **fields):
    return fact_adapter.validate_python({"type": kind, "municipality": "101", "citizen_id": "c1",
                                         "effective_date": day, **fields})

START = date(2026, 1, 10)
course = [fact("CitizenRegistered", "2026-01-01"),
          fact("VisitationDecided", "2026-01-05", course_id="k1", method="CTI", team="t"),
          fact("CourseStarted", "2026-01-10", course_id="k1", support_worker="w1"),
          fact("CtiPhaseStarted", "2026-01-10", course_id="k1", phase="1"),
          fact("HandleplanCreated", "2026-02-14")]

# registration fills in a phase's planned end
app = Registration(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
app.record_batch([(f, "test") for f in course])
phase = [m.fact for m in app.history("c1", "101") if m.fact.type == "CtiPhaseStarted"][0]
assert phase.planned_end == add_months(START, 4), f"registration: phase planned end {phase.planned_end}"

# the projections' fold and KPIs
history = fold("101", [Record(i, datetime.now(timezone.utc), f) for i, f in enumerate(course, start=1)])
folded = history.courses["k1"]
assert folded.planned_end() == add_months(START, 12), f"projections: CTI planned end {folded.planned_end()}"
unplanned = fold("101", [Record(1, datetime.now(timezone.utc), fact("CtiPhaseStarted", "2026-01-10", course_id="k1", phase="1"))])
def figure(kpi, history, params=Params()):
    return CATALOGUE[kpi].compute(Context(history, Window(date(2026, 1, 1), date(2026, 3, 31)), params=params))
p7 = figure("P7", history)["values"]
assert (p7["CTI.norm"], p7["ICM.norm"], p7["ACT.norm"], p7["SEL85.norm"]) == (13, 9, 11, 51), f"P7: {p7}"
assert figure("P2", history)["value"] == 1.0, "P2: a handleplan 35 days after the start is within 40 days"
assert "12 months" in CATALOGUE["P3"].definition_en and "12 måneder" in CATALOGUE["P3"].definition_da and "40 dage" in CATALOGUE["P2"].name_da
assert "24_months" in figure("O3", history)["values"], "O3: follow-up months"
poor = course + [fact("MeasurementRecorded", "2026-02-01", course_id="k1", instrument="WHO5", answers=[3, 3, 3, 3, 2]),
                 fact("ConsentGiven", "2026-01-10", scope="outcome_measurements")]
o6 = figure("O6", fold("101", [Record(i, datetime.now(timezone.utc), f) for i, f in enumerate(poor, start=1)]))
assert o6["value"] == 1.0, f"O6: WHO-5 index 56 is poor when the limit is 60: {o6}"
assert Params().ucla3_lonely_at == 8
assert housing_group(HousingSituation.SKAEV) == "unknown", "housing groups"

# the facts accept what the norms say
fact("FollowUpRecorded", "2026-01-01", course_id="k1", months_after_end=24, keeps_own_housing="yes")
try:
    fact("HousingGained", "2026-02-01", housing="skaev")
    raise AssertionError("HousingGained: skaev is no longer an own home")
except ValueError:
    pass

# the alert rules' defaults and dates
d = {rule.id: rule.defaults for rule in rules.CATALOGUE.values()}
assert d["caseload_over_norm"] == {"cti": 13, "icm": 9, "act": 11}, d["caseload_over_norm"]
assert d["cti_course_overdue"]["months"] == 12 and d["handleplan_missing"]["days"] == 40
assert d["follow_up_due"]["window_days"] == 31 and d["no_contact"]["icm_days"] == 15
assert d["shelter_stay_long"]["any_days"] == 100 and d["wellbeing_low"]["index_at_most"] == 32
assert rules.planned_phase_end(START, None) == add_months(START, 4)
ended = rules.CourseView("k1", "c1", "t", "CTI", started_on=START, ended_on=date(2026, 3, 1), end_reason="completed", follow_ups=frozenset({6, 9, 12}))
verdict = rules.follow_up_due(ended, d["follow_up_due"], date(2026, 3, 2))
assert verdict.raise_on is not None and verdict.raise_on > add_months(date(2026, 3, 1), 24), "alerts: follow-up months"

# the demo: CTI phases of 4 months, ACT contacts every 2 days
facts = demo.generate("101", citizens=40, months=24, seed=7, today=date(2026, 6, 1))
starts = {}
for f in facts:
    if f["type"] == "CtiPhaseStarted":
        starts.setdefault(f["course_id"], {})[f["phase"]] = date.fromisoformat(f["effective_date"])
gaps = [(p["2"] - p["1"]).days for p in starts.values() if "1" in p and "2" in p]
assert gaps and min(gaps) >= 118, f"demo: phase 1 lasts {min(gaps)} days"
assert demo.contact_every(Method.ACT) == 2
print("ok")
"""


def test_add_months_is_defined_once() -> None:
    sources = [p for p in ROOT.rglob("*.py") if not {".venv", ".casetrack", "node_modules"} & set(p.parts)]
    defining = sorted(
        str(p.relative_to(ROOT))
        for p in sources
        if re.search(r"^\s*def\s+add_months\(", p.read_text(encoding="utf-8"), re.MULTILINE)
    )
    assert defining == ["contracts/methods.py"]


def test_add_months_keeps_the_day_or_takes_the_month_end() -> None:
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)
    assert add_months(date(2025, 10, 1), 9) == date(2026, 7, 1)
    assert add_months(date(2026, 3, 15), -3) == date(2025, 12, 15)
    assert add_months(date(2026, 1, 15), -13) == date(2024, 12, 15)


def test_a_norm_changed_in_contracts_methods_reaches_every_service(tmp_path: Path) -> None:
    source = METHODS.read_text(encoding="utf-8")
    for before, after in CHANGES:
        assert source.count(before) == 1, f"contracts/methods.py no longer has {before!r}: update CHANGES"
        source = source.replace(before, after)
    changed = tmp_path / "methods.py"
    changed.write_text(source, encoding="utf-8")
    run = subprocess.run(
        [sys.executable, "-c", CHECKS, str(changed)], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0 and run.stdout.strip() == "ok", run.stderr[-3000:]
