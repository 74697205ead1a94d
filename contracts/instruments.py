"""Measurement instruments (docs/domain.md §6): which answers are valid and how they are scored.
The thresholds that read a score (poor well-being, loneliness, ...) are in contracts/methods.py."""

from dataclasses import dataclass
from enum import StrEnum


class Instrument(StrEnum):
    WHO5 = "WHO5"  # trivsel, 5 items 0-5
    UCLA3 = "UCLA3"  # three-item loneliness, 1-3
    ORS = "ORS"  # Outcome Rating Scale, 4 items 0-10
    SRS = "SRS"  # Session Rating Scale, 4 items 0-10
    LIKERT = "LIKERT"  # the five dimensions of the double bottom line, 1-5 each
    RECOVERY_STAR = "RECOVERY_STAR"  # 10 life areas, 1-10 each


LIKERT_DIMENSIONS = (
    "bokompetence",
    "oekonomi",  # kan overskue og forvalte økonomi
    "stabil_livsstil",
    "mentale_vanskeligheder",  # står i vejen (reverse)
    "rusmiddelforbrug",  # står i vejen (reverse)
)
LIKERT_REVERSED = frozenset({"mentale_vanskeligheder", "rusmiddelforbrug"})

RECOVERY_STAR_AREAS = (
    "mental_health",
    "physical_health_self_care",
    "living_skills",
    "social_networks",
    "work",
    "relationships",
    "addictive_behaviour",
    "responsibilities",
    "identity_self_esteem",
    "trust_hope",
)


@dataclass(frozen=True)
class Scale:
    items: int | tuple[str, ...]  # a count of ordered items, or named items (any subset allowed)
    low: int
    high: int


SCALES: dict[Instrument, Scale] = {
    Instrument.WHO5: Scale(5, 0, 5),
    Instrument.UCLA3: Scale(3, 1, 3),
    Instrument.ORS: Scale(4, 0, 10),
    Instrument.SRS: Scale(4, 0, 10),
    Instrument.LIKERT: Scale(LIKERT_DIMENSIONS, 1, 5),
    Instrument.RECOVERY_STAR: Scale(RECOVERY_STAR_AREAS, 1, 10),
}


def answer_problems(instrument: Instrument, answers: list[int] | dict[str, int]) -> list[str]:
    """What is wrong with these answers for this instrument; empty when they are valid."""
    scale = SCALES[instrument]
    if isinstance(scale.items, int):
        if not isinstance(answers, list):
            return [f"{instrument.value} takes a list of {scale.items} item answers"]
        if len(answers) != scale.items:
            return [f"{instrument.value} takes exactly {scale.items} item answers, got {len(answers)}"]
        values: dict[int, int] | dict[str, int] = dict(enumerate(answers, start=1))
    else:
        if not isinstance(answers, dict) or not answers:
            return [f"{instrument.value} takes answers by name: {', '.join(scale.items)}"]
        unknown = sorted(set(answers) - set(scale.items))
        if unknown:
            return [f"unknown {instrument.value} item(s): {', '.join(unknown)}"]
        values = answers
    return [
        f"item {key} = {value} is outside {scale.low}-{scale.high}"
        for key, value in values.items()
        if not scale.low <= value <= scale.high
    ]


def score(instrument: Instrument, answers: list[int] | dict[str, int]) -> dict[str, float]:
    """The standard scores: WHO-5 raw and index (raw x 4), sums for UCLA-3/ORS/SRS, and the item
    values for the Likert dimensions (reverse items turned so higher is better) and Recovery Star."""
    if instrument == Instrument.WHO5:
        raw = sum(answers)  # type: ignore[arg-type]
        return {"raw": raw, "index": raw * 4}
    if instrument in (Instrument.UCLA3, Instrument.ORS, Instrument.SRS):
        return {"total": sum(answers)}  # type: ignore[arg-type]
    if instrument == Instrument.LIKERT:
        assert isinstance(answers, dict)
        return {k: (6 - v if k in LIKERT_REVERSED else v) for k, v in answers.items()}
    assert isinstance(answers, dict)
    return {k: float(v) for k, v in answers.items()}
