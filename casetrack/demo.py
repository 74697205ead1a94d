"""Demo data: a municipality's Housing First work over N months, submitted through the public API.

The simulation follows the norms of contracts/methods.py and, loosely, the proportions of the
evaluation of the Homelessness Strategy 2009-13 (docs/domain.md §1, §10):
- methods: ICM about half of the courses, CTI about a third, ACT the rest (the strategy had
  1,010 ICM, 406 CTI and 105 ACT courses); about 3 in 4 citizens are men, about a third are young;
- most citizens come from a §110 shelter (contact from the municipality within days, most assessed
  ready to move), the rest from the street, sofa-surfing, prison or hospital;
- housing gained: ~89% of CTI, ~69% of ICM, ~90% of ACT citizens, CTI mostly in phase 1;
  housing lost again: ~3% CTI, ~8% ICM, ~7% ACT, half of them after an eviction, some regained;
- CTI runs in phases of CTI_PHASE_MONTHS (a contact phase first for some, overruns for some)
  and ends completed in ~2/3 of cases, else no longer needs support, revisitation to ICM, does
  not want support or contact lost; ICM and ACT are open-ended and end with the evaluation's reasons;
- a §141 handleplan for about half of the citizens, offered, created, declined or revised;
- contacts at the methods' cadence (CTI weekly → monthly by phase, ICM weekly, ACT twice a week),
  time planned per CTI phase or ICM/ACT month, WHO-5 at baseline and every ~3 months (slowly
  improving), UCLA-3 and the Likert dimensions now and then;
- follow-ups 6, 9 and 12 months after a course ended; income, employment, substance-abuse
  treatment, eviction risks (most prevented), consent; teams, workers (one joins, one moves
  team, one leaves) and quarterly housing-stock figures.
- issue 17's methods: outreach (§99) courses from the street, in the phases contact making,
  relationship and bridging, with the Recovery Star from contact established and a handover to the
  method that follows; Udredning og Plan in §110 stays; Køreplan for releases; referrals assessed,
  some refused a visitation; courses ending well handed over to a named offer.
About a third of the citizens are sent with a (made-up) CPR number instead of an id, as a case
system would; registration turns it into the pseudonymous id.
"""

import random
import time
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import httpx

from casetrack import demo_surveys
from contracts.codes import CtiPhase, Method
from contracts.instruments import RECOVERY_STAR_AREAS
from contracts.methods import (
    CONTACT_EVERY_DAYS,
    CTI_CONTACT_PHASE_WEEKS,
    CTI_MONTHS,
    CTI_PHASE_MONTHS,
    FOLLOW_UP_MONTHS,
    add_months,
)

Fact = dict[str, Any]

METHOD_WEIGHTS = {"CTI": 0.33, "ICM": 0.52, "ACT": 0.15}
HOUSING_GAINED = {"CTI": 0.89, "ICM": 0.69, "ACT": 0.90}
HOUSING_LOST = {"CTI": 0.03, "ICM": 0.08, "ACT": 0.07}
HOURS_PER_MONTH = {"ICM": (10, 20), "ACT": (20, 35)}
CTI_PHASE_HOURS = {"contact": 10, "1": 40, "2": 25, "3": 15}
END_REASONS_OPEN = {  # ICM/ACT endings in the 2009-13 evaluation
    "no_longer_needs_support": 0.20,
    "needs_other_support": 0.22,
    "does_not_want_support": 0.17,
    "contact_lost": 0.21,
    "moved": 0.10,
    "other": 0.10,
}
END_REASONS_CTI = {
    "completed": 0.65,
    "no_longer_needs_support": 0.10,
    "needs_other_support": 0.15,
    "does_not_want_support": 0.05,
    "contact_lost": 0.05,
}
REVISITATION = {"CTI": "ICM", "ICM": "ACT", "ACT": "ICM"}
HANDOVER_TO = {"CTI": "sel85", "ICM": "sel85", "ACT": "icm", "OUTREACH": "icm"}  # the offer a course hands over to
OUTREACH_FROM = (
    "street",
    "sofa",
    "night_shelter",
)  # entries met by outreach (the outreach evaluation's target group, docs/domain.md §10)
REFUSALS = {"needs_less": 0.35, "needs_more": 0.25, "declined_by_citizen": 0.2, "no_capacity": 0.1, "other": 0.1}
FOLLOW_ON = {"hoej": 0.30, "nogen": 0.30, "ringe": 0.11, "slet_ikke": 0.14, "ved_ikke": 0.15}
ENTRY = {
    "shelter_110": 0.55,
    "street": 0.15,
    "sofa": 0.15,
    "night_shelter": 0.05,
    "hospital_no_housing": 0.05,
    "prison_no_housing": 0.05,
}
INCOME = {
    "kontanthjaelp": 0.58,
    "foertidspension": 0.20,
    "uddannelseshjaelp": 0.08,
    "sickness_benefit": 0.05,
    "none": 0.05,
    "other": 0.04,
}
HOMES = {"almen": 0.70, "private_rental": 0.12, "skaev": 0.06, "shared_supported": 0.12}
CONTACT_KINDS = {
    "face_to_face": 0.65,
    "phone_digital": 0.20,
    "partners": 0.08,
    "attempted": 0.05,
    "cancelled_by_citizen": 0.02,
}

# Within a day, facts are submitted in this order (the rest in between).
REFERRAL_SOURCES = {
    "citizen": 0.2,
    "relative": 0.1,
    "caretaker": 0.05,
    "municipal_professional": 0.25,
    "hospital_psychiatry": 0.1,
    "prison_probation": 0.05,
    "shelter": 0.15,
    "outreach": 0.1,
}
FIRST = {
    "CitizenRegistered": 0,
    "HousingSituationRecorded": 1,
    "ShelterStayStarted": 1,
    "VisitationDecided": 2,
    "CourseStarted": 3,
    "CtiPhaseStarted": 4,
    "OutreachPhaseStarted": 4,
    "HousingGained": 4,
    "EvictionRiskRegistered": 5,
}
LAST = {
    "EvictionPrevented": 7,
    "EvictionCarriedOut": 7,
    "HousingLost": 8,
    "ShelterStayEnded": 8,
    "SupportWorkerChanged": 8,
    "CourseEnded": 9,
    "FollowUpRecorded": 10,
    "CitizenErased": 11,
}


def contact_every(method: Method, phase: CtiPhase | None = None) -> int:
    """Days between contacts at the method's cadence; the CTI contact phase at phase 1's."""
    return CONTACT_EVERY_DAYS[(method, CtiPhase.PHASE_1 if phase == CtiPhase.CONTACT else phase)]


def pick(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


@dataclass
class Team:
    team_id: str
    method: str
    workers: list[tuple[str, date, date | None]] = field(default_factory=list)  # id, from, until

    def worker_on(self, rng: random.Random, day: date, other_than: str | None = None) -> str:
        present = [
            w for w, since, until in self.workers if since <= day and (until is None or day < until) and w != other_than
        ]
        return rng.choice(present)

    def leaves_on(self, worker: str) -> date | None:
        return next(until for w, _, until in self.workers if w == worker)


class Municipality:
    """Teams, workers and periodic figures of one municipality."""

    def __init__(self, rng: random.Random, code: str, first: date, today: date):
        self.rng, self.code, self.first, self.today = rng, code, first, today
        self.facts: list[Fact] = []
        self.teams = {method: Team(f"team-{method.lower()}", method) for method in METHOD_WEIGHTS}
        for method, team in self.teams.items():
            self._fact("TeamRegistered", first, team_id=team.team_id, name=f"{method}-teamet", methods=[method])
            self._worker(team, f"leder-{method.lower()}", first, role="team_leader")
            for n in range({"CTI": 3, "ICM": 4, "ACT": 3}[method]):
                self._worker(team, f"w-{method.lower()}-{n + 1}", first)
        # Outreach (§99): its own team, where the leader also goes out (the outreach evaluation counts both's hours).
        self.outreach = Team("team-outreach", "OUTREACH")
        self._fact("TeamRegistered", first, team_id="team-outreach", name="OUTREACH-teamet", methods=["OUTREACH"])
        self._worker(self.outreach, "leder-outreach", first, role="team_leader")
        self.outreach.workers.append(("leder-outreach", first, None))
        for n in range(2):
            self._worker(self.outreach, f"w-outreach-{n + 1}", first)
        span = (today - first).days
        # The ICM team grows; a CTI worker moves to the ACT team; an ICM worker leaves.
        self._worker(self.teams["ICM"], "w-icm-5", first + timedelta(days=span // 4))
        moved_on = first + timedelta(days=span // 2)
        self._move(self.teams["CTI"], self.teams["ACT"], "w-cti-3", moved_on)
        left_on = first + timedelta(days=3 * span // 4)
        self._leave(self.teams["ICM"], "w-icm-2", left_on)
        self._housing_stock()

    def _fact(self, kind: str, day: date, **fields: Any) -> None:
        self.facts.append({"type": kind, "municipality": self.code, "effective_date": day.isoformat(), **fields})

    def _worker(self, team: Team, worker: str, since: date, role: str = "support_worker") -> None:
        self._fact(
            "WorkerRegistered",
            since,
            worker_id=worker,
            team_id=team.team_id,
            role=role,
            email=f"{worker}@kommune{self.code}.dk",
        )
        if role == "support_worker":
            team.workers.append((worker, since, None))

    def _move(self, source: Team, target: Team, worker: str, day: date) -> None:
        self._fact("WorkerMovedTeam", day, worker_id=worker, team_id=target.team_id)
        source.workers = [(w, s, day if w == worker else u) for w, s, u in source.workers]
        target.workers.append((worker, day, None))

    def _leave(self, team: Team, worker: str, day: date) -> None:
        self._fact("WorkerLeft", day, worker_id=worker)
        team.workers = [(w, s, day if w == worker else u) for w, s, u in team.workers]

    def _housing_stock(self) -> None:
        start = date(self.first.year, self.first.month, 1)
        while True:
            end = add_months(start, 3) - timedelta(days=1)
            if end >= self.today:
                return
            if start >= self.first:
                self._fact(
                    "HousingStockReported",
                    end,
                    period_start=start.isoformat(),
                    vacant_cheap_homes=[
                        {"max_rent_dkk": 3000, "rooms": 1, "count": self.rng.randint(0, 6)},
                        {"max_rent_dkk": 4500, "rooms": 2, "count": self.rng.randint(2, 15)},
                    ],
                    mean_wait_days_cheap=float(self.rng.randint(150, 400)),
                    mean_wait_days_emergency=float(self.rng.randint(20, 90)),
                    allocation_right_homes_vacant=self.rng.randint(0, 8),
                    allocation_right_vacancy_paid_dkk=float(self.rng.randint(0, 60) * 1000),
                )
            start = add_months(start, 3)


class CitizenStory:
    """One citizen's history: entry into homelessness, courses, housing, and what follows."""

    def __init__(self, rng: random.Random, place: Municipality, number: int, entry: date):
        self.rng, self.place, self.today = rng, place, place.today
        self.entries: list[tuple[date, int, int, Fact]] = []
        self.birth_year = rng.randint(1997, 2007) if rng.random() < 0.33 else rng.randint(1958, 1996)
        if rng.random() < 0.33:
            day, month = rng.randint(1, 28), rng.randint(1, 12)
            self.identity = {"cpr": f"{day:02d}{month:02d}{self.birth_year % 100:02d}-{rng.randint(0, 9999):04d}"}
        else:
            self.identity = {"citizen_id": f"demo-{place.code}-{number:05d}"}
        self.number = number
        self.entry = entry
        self.stay_started: date | None = None
        self.housed_until: date | None = None  # while housed: the day housing ends (or today)
        self.story(entry)

    def add(self, fact_type: str, day: date, *, after: date | None = None, **fields: Any) -> bool:
        """Adds a fact unless it lies in the future; `after` orders a correction after its original."""
        if day > self.today:
            return False
        day = max(day, self.entry)  # nothing before the citizen is known
        order = FIRST.get(fact_type, LAST.get(fact_type, 6))
        fact = {
            "type": fact_type,
            "municipality": self.place.code,
            **self.identity,
            "effective_date": day.isoformat(),
            **fields,
        }
        self.entries.append((after or day, order, len(self.entries), fact))
        return True

    def facts(self) -> list[Fact]:
        return [fact for *_, fact in sorted(self.entries, key=lambda e: e[:3])]

    def days(self, low: int, high: int) -> timedelta:
        return timedelta(days=self.rng.randint(low, high))

    def story(self, entry: date) -> None:
        rng = self.rng
        young = entry.year - self.birth_year <= 29
        self.add(
            "CitizenRegistered",
            entry,
            birth_year=self.birth_year,
            gender="male" if rng.random() < 0.75 else "female",
            target_groups=["youth"] if young else [],
        )
        self.referral(entry)
        situation = pick(rng, ENTRY)
        self.add("HousingSituationRecorded", entry, housing=situation)
        self.add("IncomeTypeRecorded", entry + self.days(0, 20), income_type=pick(rng, INCOME))
        status = "education" if young and rng.random() < 0.15 else "unemployed"
        self.add(
            "EmploymentStatusRecorded",
            entry + self.days(0, 20),
            status=status,
            jobcentre_category="uddannelsesparat" if status == "education" else "aktivitetsparat",
        )
        stay_end: date | None = None
        if situation == "shelter_110":
            stay_end = self.shelter_stay(entry)
        self.koereplan(entry, situation)
        if rng.random() < 0.65:
            self.add(
                "HousingWaitingListRegistered",
                entry + self.days(5, 40),
                housing_type="ungdomsbolig" if young else rng.choice(["almen", "almen", "skaev", "shared_supported"]),
            )
        if rng.random() < 0.2:
            started = entry + self.days(20, 200)
            if self.add("SubstanceTreatmentStarted", started) and rng.random() < 0.6:
                self.add("SubstanceTreatmentEnded", started + self.days(60, 200))
        visitation = entry + self.days(10, 60)
        method = pick(rng, METHOD_WEIGHTS)
        if situation in OUTREACH_FROM:
            self.outreach_course(entry, method)
        if rng.random() < 0.9:
            self.add("ConsentGiven", visitation, scope="outcome_measurements")
            if rng.random() < 0.03:
                self.add("ConsentWithdrawn", visitation + self.days(60, 300), scope="outcome_measurements")
        self.course(method, visitation, f"{self.number:05d}-1", stay_end, depth=1)
        if rng.random() < 0.01:
            last = max(e[0] for e in self.entries)
            self.add("CitizenErased", min(self.today, last + self.days(1, 30)))

    def extra(self, what: str) -> random.Random:
        """A random source of its own for the facts added later (referrals, Recovery Star), so the
        rest of the demo stays as it was for the same seed."""
        return random.Random(f"{self.place.code}-{self.number}-{hash(self.rng.getstate()[1])}-{what}")

    def referral(self, entry: date) -> None:
        """The referral that made the citizen known, assessed within days: most in the target group,
        some not (already supported, or referred on) - the referral funnel's first steps."""
        rng = self.extra("referral")
        referral = f"h-{self.number:05d}"
        self.add(
            "ReferralReceived",
            entry,
            referral_id=referral,
            source=pick(rng, REFERRAL_SOURCES),
            channel=pick(rng, {"phone": 0.6, "in_person": 0.15, "written": 0.1, "outreach": 0.15}),
        )
        fits = rng.random() < 0.85
        self.add(
            "ReferralAssessed",
            entry + timedelta(days=rng.randint(0, 7)),
            referral_id=referral,
            in_target_group=fits,
            already_supported=not fits and rng.random() < 0.5,
            referred_to=None if fits else rng.choice(["health_care", "drop_in", "jobcentre", "gp", "other_sel99"]),
        )
        if fits and rng.random() < 0.1:  # the visitation asked for is refused (the citizen may come back later)
            self.add(
                "VisitationRefused",
                entry + timedelta(days=rng.randint(8, 20)),
                referral_id=referral,
                method=pick(rng, METHOD_WEIGHTS),
                reason=pick(rng, REFUSALS),
            )

    def outreach_course(self, entry: date, method: str) -> None:
        """Half of the citizens met on the street or sofa-surfing get a §99 outreach course from the
        day they are known: contact making (attempts first), relationship, bridging; weekly contacts;
        a Recovery Star soon after contact is established (most) and every three months; after 2-7
        months a handover to the method that follows."""
        rng = self.extra("outreach")
        if rng.random() >= 0.5:
            return
        team, course_id = self.place.outreach, f"{self.number:05d}-o"
        course: dict[str, Any] = {"course_id": course_id}
        worker = team.worker_on(rng, entry)
        self.add("VisitationDecided", entry, **course, method="OUTREACH", team=team.team_id)
        self.add("CourseStarted", entry, **course, support_worker=worker)
        end = entry + timedelta(days=rng.randint(60, 210))
        relationship = entry + timedelta(days=rng.randint(14, 40))
        bridging = max(relationship + timedelta(days=7), end - timedelta(days=rng.randint(14, 30)))
        phases = [(entry, "contact_making"), (relationship, "relationship"), (bridging, "bridging")]
        for day, phase in phases:
            self.add("OutreachPhaseStarted", day, **course, phase=phase)
        established = None
        day = entry + timedelta(days=rng.randint(1, 7))
        while day < min(end, self.today):
            kind = "attempted" if established is None and rng.random() < 0.5 else pick(rng, CONTACT_KINDS)
            minutes = {"face_to_face": rng.randint(20, 90), "phone_digital": rng.randint(5, 20)}.get(kind, 10)
            self.add("ContactRecorded", day, **course, minutes=minutes, kind=kind)
            if established is None and kind in ("face_to_face", "phone_digital"):
                established = day
            day += timedelta(days=rng.randint(4, 10))
        if established is not None and rng.random() < 0.85:
            measured = established + timedelta(days=rng.randint(3, 25))
            steps = {area: rng.randint(1, 5) for area in RECOVERY_STAR_AREAS}
            while measured < min(end, self.today):
                self.add("MeasurementRecorded", measured, **course, instrument="RECOVERY_STAR", answers=steps)
                steps = {a: max(1, min(10, s + rng.choice([-1, 0, 1, 1, 2]))) for a, s in steps.items()}
                measured = add_months(measured, 3)
        if end > self.today:
            return
        handed = rng.random() < 0.75
        if handed:
            self.add("CourseHandedOver", end, **course, offer=HANDOVER_TO["OUTREACH"], provider=f"{method}-teamet")
        self.add(
            "CourseEnded",
            end,
            **course,
            reason="completed" if handed else pick(rng, END_REASONS_OPEN),
            follow_on_offer="hoej" if handed else rng.choice(["ringe", "ved_ikke"]),
        )

    def recovery_star(self, started: date, end: date | None, course_id: str) -> None:
        """A Recovery Star a month after the start and then every six months, mostly climbing."""
        rng = self.extra(f"star-{course_id}")
        steps = {area: rng.randint(2, 6) for area in RECOVERY_STAR_AREAS}
        day = started + timedelta(days=rng.randint(25, 40))
        while day <= (end or self.today):
            self.add("MeasurementRecorded", day, course_id=course_id, instrument="RECOVERY_STAR", answers=steps)
            steps = {area: max(1, min(10, step + rng.choice([-1, 0, 0, 1, 1, 2]))) for area, step in steps.items()}
            day = add_months(day, 6)

    def shelter_stay(self, start: date) -> date:
        self.stay_started = start
        self.add("ShelterStayStarted", start, shelter=f"herberg-{self.rng.randint(1, 3)}")
        end = start + self.days(30, 240)
        if self.rng.random() < 0.85:
            self.add("ShelterContactMade", start + self.days(1, 20))
        if self.rng.random() < 0.6:
            self.add("AssessedReadyToMove", start + self.days(21, 29))
        self.udredning(start)
        return end

    def koereplan(self, entry: date, situation: str) -> None:
        """A Køreplan for a citizen known from prison or hospital (or one in ten others, from
        treatment): a release planned one to four months ahead, a release meeting held a month or
        more before it in four cases of five, then the release."""
        rng = self.extra(f"koereplan-{entry.isoformat()}")
        released_from = {"prison_no_housing": "prison", "hospital_no_housing": "hospital"}.get(situation)
        if released_from is None:
            if rng.random() >= 0.1:
                return
            released_from = "treatment"
        release = entry + timedelta(days=rng.randint(30, 120))
        if not self.add("ReleasePlanned", entry, release_from=released_from, planned_release_on=release.isoformat()):
            return
        if rng.random() < 0.8:
            self.add(
                "ReleaseMeetingHeld",
                max(entry, release - timedelta(days=rng.randint(30, 50))),
                housing_agreed=rng.random() < 0.7,
                support_agreed=rng.random() < 0.9,
            )
        self.add("ReleaseCompleted", release, housing=rng.choice(["sofa", "street", "shelter_110", "almen"]))

    def udredning(self, start: date) -> None:
        """Udredning og Plan at once, mostly completed within its 6 weeks (before the stay's 30th
        day, when it ends at the earliest); one in ten is not completed while the stay lasts."""
        rng = self.extra(f"udredning-{start.isoformat()}")
        self.add("UdredningStarted", start + timedelta(days=rng.randint(0, 2)))
        if rng.random() < 0.9:
            self.add(
                "UdredningCompleted",
                start + timedelta(days=rng.randint(20, 29)),
                recommended_housing=rng.choice(["almen", "skaev", "sel107", "shared_supported"]),
                recommended_support=rng.choice(["CTI", "ICM", "SEL85"]),
            )

    def course(self, method: str, decided: date, course_id: str, stay_end: date | None, depth: int) -> None:
        rng, place = self.rng, self.place
        team = place.teams[method]
        started = decided + self.days(0, 14)
        if decided > self.today:
            return
        course: dict[str, Any] = {"course_id": course_id}
        self.add(
            "VisitationDecided",
            decided,
            **course,
            method=method,
            team=team.team_id,
            assessment_done=rng.random() < 0.7,
            fits_target_group=rng.random() < 0.88,
        )
        if started > self.today:
            return
        worker = team.worker_on(rng, started)
        self.add("CourseStarted", started, **course, support_worker=worker)
        if rng.random() < 0.05 and started > decided:
            self.add("CourseStartCorrected", max(decided, started - self.days(1, 5)), after=started, **course)
        end, reason = self.course_end(method, started)
        self.handleplans(decided, started, end, course_id)
        self.measurements(started, end, course_id)
        if method in ("ICM", "ACT"):
            self.recovery_star(started, end, course_id)
        if method == "CTI":
            self.cti_phases(started, end, course_id)
        else:
            self.monthly_plans_and_contacts(method, started, end, course_id)
        self.worker_changes(team, worker, started, end, course_id)
        self.housing(method, started, end, stay_end)
        if end is None:
            return
        fields: dict[str, Any] = {"reason": reason, "follow_on_offer": pick(rng, FOLLOW_ON)}
        if reason == "needs_other_support":
            fields["revisitation_method"] = REVISITATION[method]
        if fields["follow_on_offer"] in ("hoej", "nogen") and self.extra(f"handover-{course_id}").random() < 0.7:
            self.add("CourseHandedOver", end, **course, offer=HANDOVER_TO[method])
        self.add("CourseEnded", end, **course, **fields)
        for months in FOLLOW_UP_MONTHS:
            if rng.random() < 0.8:
                due = add_months(end, months)
                keeps = "yes" if self.housed_on(due) else rng.choice(["no", "unknown"])
                self.add(
                    "FollowUpRecorded",
                    due + self.days(0, 20),
                    **course,
                    months_after_end=months,
                    keeps_own_housing=keeps,
                )
        if reason == "needs_other_support" and depth < 3:
            self.course(REVISITATION[method], end, f"{self.number:05d}-{depth + 1}", None, depth + 1)

    def course_end(self, method: str, started: date) -> tuple[date | None, str]:
        rng = self.rng
        if method == "CTI":
            end = add_months(started, CTI_MONTHS) + self.days(-3, 57)
            reason = pick(rng, END_REASONS_CTI)
            if reason != "completed":
                end = started + self.days(60, 260)
        else:
            end = started + timedelta(days=int(rng.expovariate(1 / 700)) + 30)
            reason = pick(rng, END_REASONS_OPEN)
        return (end, reason) if end <= self.today else (None, "")

    def handleplans(self, decided: date, started: date, end: date | None, course_id: str) -> None:
        rng = self.rng
        roll = rng.random()
        until = end or self.today

        def on_course(day: date) -> dict[str, Any]:
            return {"course_id": course_id} if decided <= day <= until else {}

        offered = started + self.days(0, 20)
        if roll < 0.75 and self.add("HandleplanOffered", offered, **on_course(offered)):
            if roll < 0.55:
                created = offered + self.days(0, 25)
                if self.add("HandleplanCreated", created, **on_course(created)) and rng.random() < 0.3:
                    revised = created + self.days(90, 200)
                    self.add("HandleplanRevised", revised, **on_course(revised))
            elif roll < 0.65:
                declined = offered + self.days(1, 14)
                self.add("HandleplanDeclined", declined, **on_course(declined))

    def measurements(self, started: date, end: date | None, course_id: str) -> None:
        rng = self.rng
        until = end or self.today
        wellbeing = rng.uniform(6, 14)  # raw WHO-5, 0-25
        target = min(25.0, wellbeing + rng.uniform(3, 8))
        self.add(
            "ExpectedProgressionSet",
            started,
            course_id=course_id,
            instrument="WHO5",
            checkpoints=[
                {
                    "on": add_months(started, m).isoformat(),
                    "value": round(min(100.0, (wellbeing + (target - wellbeing) * m / CTI_MONTHS) * 4), 1),
                }
                for m in range(CTI_PHASE_MONTHS, CTI_MONTHS + 1, CTI_PHASE_MONTHS)
            ],
        )
        day = started + self.days(3, 30)
        while day <= until:
            if rng.random() < 0.85:
                answers = [max(0, min(5, round(wellbeing / 5 + rng.gauss(0, 0.8)))) for _ in range(5)]
                self.add("MeasurementRecorded", day, course_id=course_id, instrument="WHO5", answers=answers)
                if rng.random() < 0.4:
                    self.add(
                        "MeasurementRecorded",
                        day,
                        course_id=course_id,
                        instrument="UCLA3",
                        answers=[rng.randint(1, 3) for _ in range(3)],
                    )
                if rng.random() < 0.3:
                    self.add(
                        "MeasurementRecorded",
                        day,
                        course_id=course_id,
                        instrument="LIKERT",
                        answers={
                            k: rng.randint(1, 5)
                            for k in (
                                "bokompetence",
                                "oekonomi",
                                "stabil_livsstil",
                                "mentale_vanskeligheder",
                                "rusmiddelforbrug",
                            )
                        },
                    )
            wellbeing = min(25.0, wellbeing + rng.uniform(-1, 2.5))
            day += self.days(80, 100)

    def contacts(self, start: date, until: date, every: int, course_id: str) -> None:
        rng = self.rng
        day = start + self.days(0, every)
        while day < until:
            kind = pick(rng, CONTACT_KINDS)
            minutes = {
                "face_to_face": rng.randint(30, 120),
                "phone_digital": rng.randint(5, 25),
                "partners": rng.randint(15, 60),
            }.get(kind, 0)
            self.add("ContactRecorded", day, course_id=course_id, minutes=minutes, kind=kind)
            day += timedelta(days=max(1, round(rng.gauss(every, every / 4))))

    def cti_phases(self, started: date, end: date | None, course_id: str) -> None:
        rng = self.rng
        until = end or self.today
        phases = (["contact"] if rng.random() < 0.3 else []) + ["1", "2", "3"]
        day = previous = started
        for phase in phases:
            if day >= until:
                return
            self.add("CtiPhaseStarted", day, course_id=course_id, phase=phase)
            self.add(
                "TimePlanned",
                day,
                course_id=course_id,
                cti_phase=phase,
                expected_hours=round(CTI_PHASE_HOURS[phase] * rng.uniform(0.8, 1.2), 1),
            )
            if phase == "contact":
                length = self.days(14, 7 * CTI_CONTACT_PHASE_WEEKS)
            else:
                length = add_months(day, CTI_PHASE_MONTHS) - day
            if phase != "contact" and rng.random() < 0.2:
                length += self.days(14, 56)  # phases overrun (the 2009-13 evaluation: phase 1 drags)
            if day > started and rng.random() < 0.05:  # the phase began a few days earlier
                corrected = max(day - self.days(1, 5), previous)
                if corrected < day:
                    self.add("CtiPhaseStartCorrected", corrected, after=day, course_id=course_id, phase=phase)
            self.contacts(day, min(day + length, until), contact_every(Method.CTI, CtiPhase(phase)), course_id)
            previous, day = day, day + length

    def monthly_plans_and_contacts(self, method: str, started: date, end: date | None, course_id: str) -> None:
        rng = self.rng
        until = end or self.today
        month = date(started.year, started.month, 1)
        while month <= until:
            low, high = HOURS_PER_MONTH[method]
            self.add(
                "TimePlanned",
                max(month, started),
                course_id=course_id,
                month=month.isoformat(),
                expected_hours=float(rng.randint(low, high)),
            )
            month = add_months(month, 1)
        self.contacts(started, until, contact_every(Method(method)), course_id)
        if rng.random() < 0.15:
            # Outreach phases belong to outreach courses now (outreach_course); the draws that
            # placed them here are kept, so the rest of the demo stays as it was for a seed.
            day = started
            for _phase in ("contact_making", "relationship", "bridging"):
                if day >= until:
                    break
                day += self.days(30, 150)

    def worker_changes(self, team: Team, worker: str, started: date, end: date | None, course_id: str) -> None:
        until = end or self.today
        leaves = team.leaves_on(worker)
        change = None
        if leaves is not None and leaves < until:
            change = leaves - timedelta(days=1)
        elif self.rng.random() < 0.15:
            change = started + self.days(30, 300)
        if change is not None and started < change < until:
            self.add(
                "SupportWorkerChanged",
                change,
                course_id=course_id,
                support_worker=team.worker_on(self.rng, change, other_than=worker),
                reason="medarbejder fratrådt" if leaves else "ny kontaktperson",
            )

    def housing(self, method: str, started: date, end: date | None, stay_end: date | None) -> None:
        rng = self.rng
        if self.housed_until is not None:
            return  # already housed (a revisited citizen keeps the home)
        if rng.random() >= HOUSING_GAINED[method]:
            if stay_end is not None:
                self.add(
                    "ShelterStayEnded",
                    stay_end,
                    discharge="unplanned",
                    destination=rng.choice(["street", "sofa", "unknown"]),
                )
            return
        gained = started + (self.days(7, 80) if method == "CTI" else self.days(30, 300))
        if stay_end is not None and self.stay_started is not None:
            # Moving out ends the stay; after the shelter's own steps (contact, readiness).
            gained = max(min(gained, stay_end), self.stay_started + timedelta(days=30))
        home = pick(rng, HOMES)
        if gained > self.today:
            return
        if rng.random() < 0.2:
            self.add("HomeOfferedViaAllocationRight", gained - self.days(10, 40), accepted=True)
        if stay_end is not None:
            self.add("ShelterStayEnded", gained, discharge="planned", destination=home)
        self.add("HousingGained", gained, housing=home)
        self.housed_until = self.today
        if rng.random() < 0.10:  # a risk of eviction, mostly prevented
            risk = gained + self.days(60, 300)
            if self.add("EvictionRiskRegistered", risk, kind=rng.choice(["second_rent_reminder", "bailiff_case"])):
                self.add("EvictionPrevented", risk + self.days(5, 40))
        if rng.random() < HOUSING_LOST[method]:
            lost = gained + self.days(60, 400)
            if lost > self.today:
                return
            if rng.random() < 0.5:
                self.add("EvictionRiskRegistered", lost - self.days(30, 50), kind="bailiff_case")
                self.add("EvictionCarriedOut", lost)
                self.add("HousingLost", lost, reason="eviction")
            else:
                self.add("HousingLost", lost, reason=rng.choice(["left", "institution", "other"]))
            self.housed_until = lost
            if rng.random() < 0.5:
                regained = lost + self.days(30, 120)
                if self.add("HousingGained", regained, housing=pick(rng, HOMES)):
                    self.housed_until = self.today

    def housed_on(self, day: date) -> bool:
        return self.housed_until is not None and day <= self.housed_until


def pseudonymous(fact: Fact) -> Fact:
    """A generated fact as it is stored: a citizen id in place of the CPR number (for applying the demo
    history to a service directly, without registration)."""
    if "cpr" not in fact:
        return fact
    fact = dict(fact)
    fact["citizen_id"] = "cpr-" + fact.pop("cpr").replace("-", "")
    return fact


def generate(municipality: str, citizens: int, months: int, seed: int, today: date | None = None) -> list[Fact]:
    """The facts, in the order a case system would send them: organisation first, then citizens."""
    rng = random.Random(f"{seed}-{municipality}")
    today = today or date.today()
    first = add_months(today, -months)
    place = Municipality(rng, municipality, first, today)
    facts = list(place.facts)
    span = max(1, (today - first).days - 30)
    for number in range(citizens):
        entry = first + timedelta(days=rng.randint(0, span))
        facts.extend(CitizenStory(rng, place, number, entry).facts())
    # Surveys and partner meetings (docs/surveys.md): the CTI team's 4 answer, and stay suppressed.
    answering = {team.team_id: (method, {"CTI": 4, "ICM": 6, "ACT": 5}[method]) for method, team in place.teams.items()}
    facts.extend(
        demo_surveys.survey_facts(
            random.Random(f"{seed}-{municipality}-surveys"), municipality, answering, first, today
        )
    )
    return facts


def load(
    registration_url: str, token: str, facts: list[Fact], batch_size: int = 500
) -> tuple[int, list[dict[str, Any]]]:
    """Submits facts in batches through the public API; returns (accepted, rejected results).
    Each batch has an idempotency key, so a batch retried after a lost answer is stored once."""
    accepted, rejected = 0, []
    run = uuid.uuid4().hex
    with httpx.Client(base_url=registration_url, headers={"Authorization": f"Bearer {token}"}, timeout=300) as client:
        for offset in range(0, len(facts), batch_size):
            body = _post_batch(client, facts[offset : offset + batch_size], f"demo-{run}-{offset}")
            accepted += body["accepted"]
            rejected += [
                r | {"fact_type": facts[offset + r["index"]]["type"]} for r in body["results"] if r["status"] != 201
            ]
    return accepted, rejected


def _post_batch(client: httpx.Client, facts: list[Fact], key: str, attempts: int = 3) -> dict[str, Any]:
    for attempt in range(attempts):
        try:
            response = client.post("/v1/facts/batch", json={"facts": facts}, headers={"Idempotency-Key": key})
            if response.status_code != 503:
                response.raise_for_status()
                return response.json()
        except httpx.TransportError:
            if attempt == attempts - 1:
                raise
        time.sleep(1.0)
    response.raise_for_status()
    raise RuntimeError("unreachable")


def loaded(registration_url: str, token: str, municipality: str) -> bool:
    """Whether demo data is already there (its teams are registered)."""
    response = httpx.get(
        f"{registration_url}/v1/teams/team-cti/history",
        params={"municipality": municipality},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    return response.status_code == 200
