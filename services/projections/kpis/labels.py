"""What a reader sees instead of the code's names: the units of the figures and the labels of the
breakdown keys a KPI returns in `values`, in Danish and English. The codes the keys are made of
(methods, housing groups, income types, Likert dimensions, CTI phases) are named here once."""

import re
from dataclasses import dataclass
from typing import Literal

from contracts.codes import CtiPhase, IncomeType, Method
from contracts.instruments import LIKERT_DIMENSIONS, RECOVERY_STAR_AREAS
from contracts.methods import HOUSING_GROUPS, RECOVERY_STAR_BANDS

Lang = Literal["da", "en"]

# Every unit a figure or a breakdown value is given in: unit -> (Danish, English).
UNITS: dict[str, tuple[str, str]] = {
    "share": ("andel", "share"),
    "courses": ("forløb", "courses"),
    "citizens": ("borgere", "citizens"),
    "workers": ("medarbejdere", "workers"),
    "contacts": ("kontakter", "contacts"),
    "contacts per citizen-week": ("kontakter pr. borger-uge", "contacts per citizen-week"),
    "citizen-weeks": ("borger-uger", "citizen-weeks"),
    "courses per worker": ("forløb pr. medarbejder", "courses per worker"),
    "bed-days": ("overnatninger", "bed-days"),
    "stays": ("ophold", "stays"),
    "evictions": ("udsættelser", "evictions"),
    "risks": ("risici", "risks"),
    "offers": ("tilbud", "offers"),
    "score 1-5": ("score 1-5", "score 1-5"),
    "points": ("point", "points"),
    "hours": ("timer", "hours"),
    "answers": ("svar", "answers"),
    "referrals": ("henvendelser", "referrals"),
    "days": ("dage", "days"),
    "DKK": ("kr.", "DKK"),
    "homes": ("boliger", "homes"),
}


def unit_text(unit: str, lang: Lang) -> str:
    da, en = UNITS[unit]
    return da if lang == "da" else en


@dataclass(frozen=True)
class Label:
    """The label of a breakdown key, and the unit of its number (one of UNITS)."""

    da: str
    en: str
    unit: str

    def text(self, lang: Lang) -> str:
        return self.da if lang == "da" else self.en

    def describe(self) -> dict[str, str]:
        return {"da": self.da, "en": self.en, "unit": self.unit}


# A key may be a pattern: `{name}` stands for one part of the key (no dot), and the label's
# `{name}` is filled with it (S1's rent bands, E2's course ids).
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


class Labels:
    """One KPI's breakdown labels by key; keys with `{name}` placeholders match a family of keys."""

    def __init__(self, labels: dict[str, Label]):
        for key, label in labels.items():
            assert label.unit in UNITS, f"{key}: unknown unit {label.unit!r}"
        self.by_key = labels
        self._patterns = [(_pattern(key), label) for key, label in labels.items() if _PLACEHOLDER.search(key)]

    def get(self, key: str) -> Label | None:
        if key in self.by_key and not _PLACEHOLDER.search(key):
            return self.by_key[key]
        for pattern, template in self._patterns:
            match = pattern.match(key)
            if match:
                parts = match.groupdict()
                return Label(template.da.format(**parts), template.en.format(**parts), template.unit)
        return None

    def describe(self) -> dict[str, dict[str, str]]:
        return {key: label.describe() for key, label in self.by_key.items()}


def _pattern(key: str) -> re.Pattern[str]:
    # split() with the group: literal text at even places, placeholder names at odd ones
    pieces = _PLACEHOLDER.split(key)
    return re.compile(
        "".join(re.escape(piece) if i % 2 == 0 else f"(?P<{piece}>[^.]+)" for i, piece in enumerate(pieces)) + r"\Z"
    )


METHODS: dict[Method, tuple[str, str]] = {
    Method.CTI: ("CTI", "CTI"),
    Method.ICM: ("ICM", "ICM"),
    Method.ACT: ("ACT", "ACT"),
    Method.SEL85: ("§85-støtte", "§85 support"),
    Method.OUTREACH: ("Opsøgende (§99)", "Outreach (§99)"),
}
HOUSING: dict[str, tuple[str, str]] = {
    "homeless": ("hjemløs", "homeless"),
    "own_home": ("egen bolig", "own home"),
    "supported": ("botilbud", "supported accommodation"),
    "institution": ("institution", "institution"),
    "unknown": ("ukendt", "unknown"),
}
INCOMES: dict[IncomeType, tuple[str, str]] = {
    IncomeType.WAGE: ("løn", "wage"),
    IncomeType.UNEMPLOYMENT_BENEFIT: ("dagpenge", "unemployment benefit"),
    IncomeType.SICKNESS_BENEFIT: ("sygedagpenge", "sickness benefit"),
    IncomeType.KONTANTHJAELP: ("kontanthjælp", "cash benefit (kontanthjælp)"),
    IncomeType.UDDANNELSESHJAELP: ("uddannelseshjælp", "education benefit (uddannelseshjælp)"),
    IncomeType.SU: ("SU", "student grant (SU)"),
    IncomeType.FOERTIDSPENSION: ("førtidspension", "disability pension"),
    IncomeType.FOLKEPENSION: ("folkepension", "state pension"),
    IncomeType.NONE: ("ingen indkomst", "no income"),
    IncomeType.OTHER: ("anden indkomst", "other income"),
}
LIKERT: dict[str, tuple[str, str]] = {
    "bokompetence": ("bokompetence", "living skills"),
    "oekonomi": ("økonomi", "finances"),
    "stabil_livsstil": ("stabil livsstil", "stable lifestyle"),
    "mentale_vanskeligheder": ("mentale vanskeligheder", "mental difficulties"),
    "rusmiddelforbrug": ("rusmiddelforbrug", "substance use"),
}
CTI_PHASES: dict[CtiPhase, tuple[str, str]] = {
    CtiPhase.CONTACT: ("kontaktfase", "contact phase"),
    CtiPhase.PHASE_1: ("fase 1", "phase 1"),
    CtiPhase.PHASE_2: ("fase 2", "phase 2"),
    CtiPhase.PHASE_3: ("fase 3", "phase 3"),
}
RECOVERY_STAR: dict[str, tuple[str, str]] = {  # the Danish names of the ten life areas (docs/domain.md §6)
    "mental_health": ("psykisk velbefindende", "mental health"),
    "physical_health_self_care": ("fysisk sundhed", "physical health and self-care"),
    "living_skills": ("hverdagsaktiviteter", "living skills"),
    "social_networks": ("socialt netværk", "social networks"),
    "work": ("arbejde og uddannelse", "work and education"),
    "relationships": ("relationer", "relationships"),
    "addictive_behaviour": ("alkohol og stoffer", "alcohol and drugs"),
    "responsibilities": ("ansvar og forpligtelse", "responsibilities"),
    "identity_self_esteem": ("identitet og selvværd", "identity and self-esteem"),
    "trust_hope": ("tillid og håb", "trust and hope"),
}
RECOVERY_STAR_LADDER: dict[str, tuple[str, str]] = {  # the ladder of change's bands
    "stuck": ("Trin 1-2: sidder fast", "Steps 1-2: stuck"),
    "accepting_help": ("Trin 3-4: accepterer hjælp", "Steps 3-4: accepting help"),
    "believing": ("Trin 5-6: håb og tro", "Steps 5-6: believing"),
    "learning": ("Trin 7-8: læring", "Steps 7-8: learning"),
    "self_reliance": ("Trin 9-10: selvværd", "Steps 9-10: self-reliance"),
}
assert set(METHODS) == set(Method) and set(HOUSING) == set(HOUSING_GROUPS) and set(INCOMES) == set(IncomeType)
assert set(LIKERT) == set(LIKERT_DIMENSIONS) and set(CTI_PHASES) == set(CtiPhase)
assert set(RECOVERY_STAR) == set(RECOVERY_STAR_AREAS) and set(RECOVERY_STAR_LADDER) == set(RECOVERY_STAR_BANDS)
