"""The course page's instrument forms score and check answers exactly as contracts/instruments.py
does: static/forms.js run in Chromium (Playwright's page.evaluate) against the Python, over every
instrument, with valid and invalid answers."""

import json
import random
from pathlib import Path
from typing import Any

import pytest

from contracts.instruments import SCALES, Instrument, answer_problems, score
from tests.test_dashboard_browser import CHROMIUM, CHROMIUM_ARGS, ensure_chromium

pytestmark = pytest.mark.integration

FORMS_JS = Path(__file__).resolve().parent.parent / "services" / "dashboard" / "static" / "forms.js"


def _answer_sets(instrument: Instrument) -> list[Any]:
    """Per instrument: the lowest and highest answers, a seeded random dozen, and invalid ones."""
    scale = SCALES[instrument]
    rng = random.Random(f"forms-{instrument.value}")
    sets: list[Any] = []
    if isinstance(scale.items, int):
        n = scale.items
        sets += [[scale.low] * n, [scale.high] * n]
        sets += [[rng.randint(scale.low, scale.high) for _ in range(n)] for _ in range(12)]
        sets += [
            [scale.high + 1] + [scale.low] * (n - 1),
            [scale.low - 1] * n,
            [scale.low] * (n - 1),
            [scale.low] * (n + 1),
        ]
        sets += [{"x": scale.low}]  # by name, where a list is asked
    else:
        names = list(scale.items)
        sets += [dict.fromkeys(names, scale.low), dict.fromkeys(names, scale.high)]
        for _ in range(12):
            chosen = rng.sample(names, rng.randint(1, len(names)))  # any non-empty subset, in any order
            sets.append({name: rng.randint(scale.low, scale.high) for name in chosen})
        sets += [{names[0]: scale.high + 1, names[1]: scale.low - 1}, {"nope": scale.low, "also_not": scale.low}, {}]
        sets += [[scale.low] * 3]  # a list, where answers by name are asked
    return sets


def _python(instrument: Instrument, answers: Any) -> dict[str, Any]:
    problems = answer_problems(instrument, answers)
    return {"problems": problems, "score": None if problems else score(instrument, answers)}


def test_the_js_scoring_is_the_python_scoring_for_every_instrument() -> None:
    ensure_chromium()
    from playwright.sync_api import sync_playwright

    cases = [(i.value, answers) for i in Instrument for answers in _answer_sets(i)]
    assert {c[0] for c in cases} == {i.value for i in Instrument}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.set_content("<!doctype html><html><body></body></html>")
            page.add_script_tag(content=FORMS_JS.read_text(encoding="utf-8"))
            got = page.evaluate(
                """cases => cases.map(([instrument, answers]) => {
                    const problems = window.courseForms.answerProblems(instrument, answers);
                    return {problems, score: problems.length ? null : window.courseForms.score(instrument, answers)};
                })""",
                cases,
            )
        finally:
            browser.close()
    expected = [_python(Instrument(i), answers) for i, answers in cases]
    # JSON on both sides: 3 and 3.0 are one number, as the API's answers have them.
    assert json.loads(json.dumps(got)) == json.loads(json.dumps(expected))
    # The invalid ones were tried: 5 for each of the 4 list instruments, 4 for each of the 2 by name = 28.
    assert sum(1 for e in expected if e["problems"]) == 4 * 5 + 2 * 4
