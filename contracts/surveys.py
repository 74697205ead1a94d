"""The survey catalogue: staff surveys, method fidelity checklists, the outreach self-evaluation
and the municipality's maturity model (docs/surveys.md), each a versioned list of items with a
scale and a dimension per item. No item asks about a citizen.

A survey is answered by a `worker` (each support worker or team leader for themselves), by a
`team` (the team leader for the team) or by the `municipality` (the manager). An anonymous survey
is answered by workers and stores no respondent anywhere (docs/surveys.md §3).

A municipality adds a survey, or a new version of a shipped one, with the fact `SurveyDefined`
(contracts/facts.py), which carries a `SurveyDefinition` as below.
"""

import re
from datetime import date
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from contracts.methods import SURVEY_ROUND_MONTHS

Respondent = Literal["worker", "team", "municipality"]
SurveyId = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
ItemId = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
Text = Annotated[str, StringConstraints(min_length=1, max_length=500)]
# A round: a half-year ("2026-H2") or a quarter ("2026-Q3").
ROUND_PATTERN = r"^(19|20|21)[0-9]{2}-(H[12]|Q[1-4])$"
Round = Annotated[str, StringConstraints(pattern=ROUND_PATTERN)]


class Partner(StrEnum):
    """Who a partner meeting (PartnerMeetingHeld) was held with (docs/surveys.md §4)."""

    JOBCENTRE = "jobcentre"
    PSYCHIATRY = "psychiatry"
    ADDICTION_TREATMENT = "addiction_treatment"
    HOUSING = "housing"
    HEALTH = "health"
    PRISON_PROBATION = "prison_probation"
    SHELTER = "shelter"
    OTHER = "other"


class Scale(BaseModel):
    """An answer is a whole number from `low` to `high`; `agree_from` and up counts as agreeing."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    low: int = Field(default=1, ge=0, le=10)
    high: int = Field(default=5, ge=1, le=10)
    agree_from: int = Field(default=4, ge=0, le=10)
    low_da: Text = "slet ikke"
    low_en: Text = "not at all"
    high_da: Text = "i meget høj grad"
    high_en: Text = "to a very high degree"

    @model_validator(mode="after")
    def _ordered(self) -> "Scale":
        if not self.low < self.high or not self.low <= self.agree_from <= self.high:
            raise ValueError("the scale needs low < high and low <= agree_from <= high")
        return self


class SurveyItem(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: ItemId
    dimension: ItemId = Field(description="the dimension the item counts towards")
    text_da: Text
    text_en: Text


class Dimension(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: ItemId
    name_da: Text
    name_en: Text


class SurveyDefinition(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: SurveyId
    version: int = Field(ge=1, le=1000)
    title_da: Text
    title_en: Text
    respondent: Respondent = Field(description="who answers: each worker, the team (leader), the municipality")
    anonymous: bool = Field(description="no respondent is stored; only workers answer anonymous surveys")
    scale: Scale = Field(default_factory=Scale)
    dimensions: tuple[Dimension, ...] = Field(min_length=1, max_length=20)
    items: tuple[SurveyItem, ...] = Field(min_length=1, max_length=80)
    source: Annotated[str, StringConstraints(max_length=300)] = ""

    @model_validator(mode="after")
    def _consistent(self) -> "SurveyDefinition":
        dimensions = [d.id for d in self.dimensions]
        items = [i.id for i in self.items]
        if len(set(dimensions)) != len(dimensions) or len(set(items)) != len(items):
            raise ValueError("item and dimension ids must be unique")
        unknown = sorted({i.dimension for i in self.items} - set(dimensions))
        if unknown:
            raise ValueError(f"items name unknown dimensions: {', '.join(unknown)}")
        if self.anonymous and self.respondent != "worker":
            raise ValueError("only a survey answered by workers can be anonymous")
        return self

    def item(self, item_id: str) -> SurveyItem | None:
        return next((i for i in self.items if i.id == item_id), None)

    def answer_problems(self, answers: dict[str, int]) -> list[str]:
        """What is wrong with a set of answers: unknown or missing items, values off the scale.
        Every item is answered: an item most left out would show a figure of fewer people than
        the round's respondents (docs/surveys.md §3)."""
        problems = [f"{item}: not an item of {self.id} v{self.version}" for item in answers if self.item(item) is None]
        problems += [f"{item.id}: not answered" for item in self.items if item.id not in answers]
        low, high = self.scale.low, self.scale.high
        problems += [
            f"{item}: {value} is not in {low}-{high}" for item, value in answers.items() if not low <= value <= high
        ]
        return problems


def round_of(day: date, months: int = SURVEY_ROUND_MONTHS) -> str:
    """The round a day falls in: half-years by default ("2026-H2"), quarters with months=3."""
    if months == 3:
        return f"{day.year}-Q{(day.month - 1) // 3 + 1}"
    return f"{day.year}-H{1 if day.month <= 6 else 2}"


def round_start(round_: str) -> date:
    match = re.match(ROUND_PATTERN, round_)
    if match is None:
        raise ValueError(f"not a round: {round_!r}")
    year, part = int(round_[:4]), round_[5:]
    month = {"H1": 1, "H2": 7}.get(part) or (int(part[1]) - 1) * 3 + 1
    return date(year, month, 1)


def _likert(*items: tuple[str, str, str, str]) -> tuple[SurveyItem, ...]:
    return tuple(SurveyItem(id=i, dimension=d, text_da=da, text_en=en) for i, d, da, en in items)


def _dims(*dims: tuple[str, str, str]) -> tuple[Dimension, ...]:
    return tuple(Dimension(id=i, name_da=da, name_en=en) for i, da, en in dims)


# --- Shipped surveys (docs/surveys.md §2) ------------------------------------------------------

STAFF = SurveyDefinition(
    id="staff",
    version=1,
    title_da="Medarbejderundersøgelse: rammer for bostøtten",
    title_en="Staff survey: the conditions for housing support",
    respondent="worker",
    anonymous=True,
    source="Nøgletalskatalog, procesindikatorer 3.2 og 3.6-3.9",
    dimensions=_dims(
        ("management_support", "Ledelsesopbakning", "Management support"),
        ("competences", "Medarbejderkompetencer", "Staff competences"),
        ("cooperation", "Tværfagligt samarbejde", "Cross-disciplinary cooperation"),
        ("visitation", "Visitationspraksis", "Visitation practice"),
    ),
    items=_likert(
        (
            "management_priority",
            "management_support",
            "Jeg oplever, at min ledelse bakker op om, at jeg bruger den tid, relationsarbejdet kræver.",
            "I feel my management supports me in spending the time relationship work takes.",
        ),
        (
            "management_data",
            "management_support",
            "Min ledelse følger op på forløbene og bruger nøgletallene i dialogen med teamet.",
            "My management follows up on the courses and uses the key figures with the team.",
        ),
        (
            "method_training",
            "competences",
            "Jeg har fået den undervisning i bostøttemetoden, som jeg arbejder efter, som jeg har brug for.",
            "I have had the training I need in the support method I work with.",
        ),
        (
            "supervision",
            "competences",
            "Jeg modtager regelmæssig supervision (af en faglig leder eller en ekstern supervisor).",
            "I receive regular supervision (from a professional lead or an external supervisor).",
        ),
        (
            "cooperation_works",
            "cooperation",
            "Samarbejdet med de andre forvaltninger og samarbejdspartnere om borgerne fungerer godt.",
            "Cooperation with the other departments and partners about the citizens works well.",
        ),
        (
            "cooperation_binding",
            "cooperation",
            "Aftaler i det tværfaglige samarbejde bliver overholdt.",
            "Agreements made in cross-disciplinary cooperation are kept.",
        ),
        (
            "visitation_clear",
            "visitation",
            "Visitationspraksis er klar og tydelig: jeg ved, hvem der visiteres til hvilken indsats og hvorfor.",
            "The visitation practice is clear: I know who is referred to which support and why.",
        ),
        (
            "visitation_fit",
            "visitation",
            "De borgere, jeg får, passer til målgruppen for den metode, jeg arbejder efter.",
            "The citizens I am given fit the target group of the method I work with.",
        ),
    ),
)

_FIDELITY_DIMENSIONS = _dims(
    ("target_group", "Målgruppe og visitation", "Target group and visitation"),
    ("structure", "Struktur og normering", "Structure and caseload"),
    ("practice", "Kerneelementer i praksis", "Core elements in practice"),
    ("cooperation", "Samarbejde og overdragelse", "Cooperation and handover"),
)

FIDELITY_CTI = SurveyDefinition(
    id="fidelity_cti",
    version=1,
    title_da="Metodefidelitet: CTI",
    title_en="Method fidelity: CTI",
    respondent="worker",
    anonymous=True,
    source="Nøgletalskatalog 3.10 (metodeloyalitet); Hjemløsestrategiens evaluering (CTI)",
    dimensions=_FIDELITY_DIMENSIONS,
    items=_likert(
        (
            "transition",
            "target_group",
            "Mine forløb begynder i overgangen fra herberg, hospital eller fængsel til egen bolig.",
            "My courses start at the move from shelter, hospital or prison into an own home.",
        ),
        (
            "phases",
            "structure",
            "Forløbene følger de tre faser på hver cirka 3 måneder (overgang, afprøvning, overdragelse).",
            "The courses follow the three phases of about 3 months (transition, try-out, handover).",
        ),
        (
            "caseload",
            "structure",
            "Jeg har højst 12 borgere ad gangen.",
            "I have at most 12 citizens at a time.",
        ),
        (
            "cadence",
            "practice",
            "Kontakten aftrappes: ugentligt i fase 1, hver 14. dag i fase 2, månedligt i fase 3.",
            "Contact tapers: weekly in phase 1, fortnightly in phase 2, monthly in phase 3.",
        ),
        (
            "plan",
            "practice",
            "Der er en plan med borgerens mål for hver fase.",
            "There is a plan with the citizen's goals for each phase.",
        ),
        (
            "network",
            "cooperation",
            "Jeg bygger borgerens netværk af varige støttepersoner og tilbud op undervejs.",
            "I build the citizen's network of lasting support people and services along the way.",
        ),
        (
            "handover",
            "cooperation",
            "Støtten overdrages planlagt til andre tilbud inden forløbet slutter efter 9 måneder.",
            "Support is handed over to other services as planned before the course ends after 9 months.",
        ),
    ),
)

FIDELITY_ICM = SurveyDefinition(
    id="fidelity_icm",
    version=1,
    title_da="Metodefidelitet: ICM",
    title_en="Method fidelity: ICM",
    respondent="worker",
    anonymous=True,
    source="Nøgletalskatalog 3.10 (metodeloyalitet); Hjemløsestrategiens evaluering (ICM)",
    dimensions=_FIDELITY_DIMENSIONS,
    items=_likert(
        (
            "target_group",
            "target_group",
            "Mine borgere har komplekse støttebehov, men kan bruge de almindelige tilbud med koordineret støtte.",
            "My citizens have complex needs but can use ordinary services with coordinated support.",
        ),
        ("caseload", "structure", "Jeg har højst 8 borgere ad gangen.", "I have at most 8 citizens at a time."),
        (
            "continuity",
            "structure",
            "Støtten fortsætter, også hvis borgeren mister boligen eller er indlagt eller i fængsel.",
            "Support continues when the citizen loses the home or is in hospital or prison.",
        ),
        (
            "weekly_contact",
            "practice",
            "Jeg ser mine borgere cirka en gang om ugen.",
            "I see my citizens about once a week.",
        ),
        (
            "practical_support",
            "practice",
            "Jeg giver praktisk støtte i borgerens eget hjem og nærmiljø.",
            "I give practical support in the citizen's own home and neighbourhood.",
        ),
        (
            "coordination",
            "cooperation",
            "Jeg koordinerer borgerens øvrige indsatser (jobcenter, behandling, sundhed).",
            "I coordinate the citizen's other services (jobcentre, treatment, health).",
        ),
    ),
)

FIDELITY_ACT = SurveyDefinition(
    id="fidelity_act",
    version=1,
    title_da="Metodefidelitet: ACT",
    title_en="Method fidelity: ACT",
    respondent="worker",
    anonymous=True,
    source="Nøgletalskatalog 3.10 (metodeloyalitet); Hjemløsestrategiens evaluering (ACT)",
    dimensions=_FIDELITY_DIMENSIONS,
    items=_likert(
        (
            "target_group",
            "target_group",
            "Teamets borgere er dem med de mest komplekse behov (fx psykisk sygdom og misbrug).",
            "The team's citizens are those with the most complex needs (e.g. mental illness and addiction).",
        ),
        (
            "multidisciplinary",
            "structure",
            "Teamet har psykiater, misbrugsbehandler, sygeplejerske, sagsbehandler og jobcentermedarbejder.",
            "The team has a psychiatrist, addiction worker, nurse, caseworker and jobcentre worker.",
        ),
        (
            "caseload",
            "structure",
            "Der er højst 10 borgere pr. medarbejder i teamet.",
            "There are at most 10 citizens per worker in the team.",
        ),
        (
            "shared_caseload",
            "practice",
            "Teamet deler ansvaret for borgerne og mødes dagligt om dem.",
            "The team shares responsibility for the citizens and meets daily about them.",
        ),
        (
            "contact",
            "practice",
            "Borgerne har kontakt med teamet mindst to gange om ugen, ude hos borgeren.",
            "Citizens have contact with the team at least twice a week, out where the citizen is.",
        ),
        (
            "treatment_in_team",
            "cooperation",
            "Behandling og støtte gives af teamet selv frem for at blive henvist videre.",
            "Treatment and support are given by the team itself rather than referred on.",
        ),
    ),
)

_OUTREACH_DIMENSIONS = _dims(
    ("framework", "Rammesætning og sparring", "Framework and peer sparring"),
    ("finding", "Opsporing og afdækning", "Finding the citizens"),
    ("contact", "Kontakt og relation", "Contact and relationship"),
    ("bridging", "Brobygning og overdragelse", "Bridging and handover"),
)

FIDELITY_OUTREACH = SurveyDefinition(
    id="fidelity_outreach",
    version=1,
    title_da="Metodefidelitet: opsøgende indsats (halvårlig fidelitetsmåling)",
    title_en="Method fidelity: outreach (half-yearly fidelity round)",
    respondent="worker",
    anonymous=True,
    source="Isolerede sindslidende i egen bolig, kapitel 7 (fidelitetsmålinger, runde 1-3)",
    dimensions=_OUTREACH_DIMENSIONS,
    items=_likert(
        (
            "weekly_meetings",
            "framework",
            "Vi holder jævnligt (helst ugentligt) møder, hvor den opsøgende indsats er et selvstændigt formål.",
            "We meet regularly (ideally weekly) with the outreach work as a purpose of its own.",
        ),
        (
            "peer_sparring",
            "framework",
            "Der er en fast struktur for kollegial sparring og udveksling af erfaringer.",
            "There is a fixed structure for peer sparring and sharing experience.",
        ),
        (
            "management_present",
            "framework",
            "Ledelsen deltager i møder, hvor den opsøgende indsats er i fokus.",
            "Management takes part in meetings that focus on the outreach work.",
        ),
        (
            "mapping",
            "finding",
            "Vi har afdækket, hvor i kommunen de isolerede borgere bor (geografisk afdækning).",
            "We have mapped where in the municipality the isolated citizens live.",
        ),
        (
            "communication",
            "finding",
            "Vi arbejder efter en kommunikationsstrategi med budskaber til de enkelte samarbejdspartnere.",
            "We follow a communication strategy with messages for each partner.",
        ),
        (
            "direct_outreach",
            "finding",
            "Vi arbejder efter en plan for det direkte opsøgende arbejde.",
            "We follow a plan for the direct outreach work.",
        ),
        (
            "unique_situation",
            "contact",
            "Indsatsen tager udgangspunkt i borgerens unikke situation, interesser og behov.",
            "The work starts from the citizen's unique situation, interests and needs.",
        ),
        (
            "network",
            "contact",
            "Vi involverer vigtige personer fra borgerens netværk, hvis borgeren ønsker det.",
            "We involve important people from the citizen's network if the citizen wishes.",
        ),
        (
            "neighbourhood",
            "bridging",
            "Vi støtter borgeren i at få kontakt til naboer eller andre i lokalområdet.",
            "We support the citizen in making contact with neighbours or others locally.",
        ),
        (
            "ending_plan",
            "bridging",
            "Der er en plan for, hvordan borgeren forberedes på, at kontakten afsluttes.",
            "There is a plan for how the citizen is prepared for the contact ending.",
        ),
    ),
)

SELF_EVALUATION_OUTREACH = SurveyDefinition(
    id="self_evaluation_outreach",
    version=1,
    title_da="Selvevaluering: opsøgende indsats (teamets halvårlige runde)",
    title_en="Self-evaluation: outreach (the team's half-yearly round)",
    respondent="team",
    anonymous=False,
    source="Isolerede sindslidende i egen bolig, kapitel 7 (selvevalueringer, halvårligt)",
    dimensions=_dims(
        ("organisation", "Organisering og roller", "Organisation and roles"),
        ("partners", "Samarbejdspartnere", "Partners"),
        ("learning", "Læring og opfølgning", "Learning and follow-up"),
    ),
    items=_likert(
        (
            "roles_clear",
            "organisation",
            "Roller og ansvar i teamet er klare.",
            "Roles and responsibilities in the team are clear.",
        ),
        (
            "management_bridging",
            "organisation",
            "Der er en plan for, hvordan og hvornår ledelsen inddrages i brobygningen.",
            "There is a plan for how and when management takes part in bridging.",
        ),
        (
            "partner_network",
            "partners",
            "Vi har opbygget et netværk til mulige samarbejdspartnere.",
            "We have built a network of possible partners.",
        ),
        (
            "partner_roles",
            "partners",
            "Rolle- og ansvarsfordelingen mellem os og samarbejdspartnerne er aftalt.",
            "The division of roles between us and the partners is agreed.",
        ),
        (
            "follow_up_plan",
            "learning",
            "Vi har en plan for opfølgning på indsatsen og bruger den.",
            "We have a plan for following up on the work, and use it.",
        ),
        (
            "data_used",
            "learning",
            "Vi bruger målingerne (fx Recovery Star) til at justere indsatsen.",
            "We use the measurements (e.g. the Recovery Star) to adjust the work.",
        ),
    ),
)

MATURITY = SurveyDefinition(
    id="maturity",
    version=1,
    title_da="Modenhed: datainformeret praksis og investeringstilgang (syv parametre)",
    title_en="Maturity: data-informed practice and the investment approach (seven parameters)",
    respondent="municipality",
    anonymous=False,
    source="Erfaringsopsamling, modenhedsmålingen (kort version), syv parametre",
    dimensions=_dims(
        ("strategy", "Strategi og mål", "Strategy and goals"),
        ("leadership", "Ledelse", "Leadership"),
        ("organisation", "Organisatorisk indretning", "Organisational set-up"),
        ("culture", "Kultur", "Culture"),
        ("competences", "Kompetencer", "Competences"),
        ("data", "Data", "Data"),
        ("technology", "Teknologi", "Technology"),
    ),
    items=_likert(
        (
            "strategy",
            "strategy",
            "Vi har realiseret de strategiske mål for arbejdet med datainformeret praksis og investeringstilgangen.",
            "We have realised the strategic goals for data-informed practice and the investment approach.",
        ),
        (
            "leadership",
            "leadership",
            "Ledere på alle niveauer implementerer tilgangen og bruger ofte data om aktivitet, økonomi og resultater.",
            "Leaders at every level implement the approach and often use data on activities, costs and results.",
        ),
        (
            "organisation",
            "organisation",
            "Organisationens indretning understøtter tilgangen, og data bruges løbende og systematisk til læring.",
            "The organisation's set-up supports the approach, and data are used continuously for learning.",
        ),
        (
            "culture",
            "culture",
            "Sammenhængen mellem økonomiske og faglige resultater italesættes, og data bruges i de enkelte sager.",
            "The link between financial and professional results is discussed, and data are used in cases.",
        ),
        (
            "competences",
            "competences",
            "Medarbejderne kan analysere sammenhænge mellem aktivitets-, økonomi- og resultatdata.",
            "Staff can analyse the links between activity, cost and outcome data.",
        ),
        (
            "data",
            "data",
            "Ledere og medarbejdere har adgang til relevante data om aktiviteter, økonomi og resultater.",
            "Leaders and staff have access to relevant data on activities, costs and results.",
        ),
        (
            "technology",
            "technology",
            "Vi har velfungerende IT-redskaber, som bruges i arbejdet med aktivitets-, resultat- og økonomidata.",
            "We have well-functioning IT tools that are used with activity, outcome and cost data.",
        ),
    ),
)

SHIPPED: dict[tuple[str, int], SurveyDefinition] = {
    (s.id, s.version): s
    for s in (STAFF, FIDELITY_CTI, FIDELITY_ICM, FIDELITY_ACT, FIDELITY_OUTREACH, SELF_EVALUATION_OUTREACH, MATURITY)
}
# The fidelity checklist of each method (the alert rule fidelity_round_due asks for these).
FIDELITY_BY_METHOD: dict[str, str] = {
    "CTI": "fidelity_cti",
    "ICM": "fidelity_icm",
    "ACT": "fidelity_act",
    "OUTREACH": "fidelity_outreach",
}


def shipped(survey: str, version: int) -> SurveyDefinition | None:
    return SHIPPED.get((survey, version))
