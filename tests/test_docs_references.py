"""Whatever the code and the READMEs cite about the domain is in the repository: docs/domain.md
and the section cited, never a file outside it (the seed reports are cited by their titles)."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SKIP = {".venv", ".casetrack", ".git", "node_modules"}


def _texts() -> dict[str, str]:
    files = [
        p
        for p in ROOT.rglob("*")
        if p.suffix in {".py", ".md", ".json", ".yaml", ".js", ".html"}
        and p.is_file()
        and not SKIP & set(p.relative_to(ROOT).parts)
    ]
    return {str(p.relative_to(ROOT)): p.read_text(encoding="utf-8") for p in files}


def test_every_cited_section_of_docs_domain_md_exists() -> None:
    domain = (ROOT / "docs" / "domain.md").read_text(encoding="utf-8")
    sections = set(re.findall(r"^## (\d+)\. ", domain, re.MULTILINE))
    anchors = {
        re.sub(r"[^a-z0-9 -]", "", h.lower()).replace(" ", "-") for h in re.findall(r"^## (.+)$", domain, re.MULTILINE)
    }
    missing = []
    for path, text in _texts().items():
        text = text.replace("\\u00a7", "§").replace("\\xA7", "§")
        for cited in re.findall(r"domain\.md\s*§[\s\\]*(\d+)", text):
            if cited not in sections:
                missing.append(f"{path}: §{cited}")
        for anchor in re.findall(r"domain\.md#([a-z0-9-]+)", text):
            if anchor not in anchors:
                missing.append(f"{path}: #{anchor}")
    assert not missing, missing


def test_nothing_points_outside_the_repository() -> None:
    outside = re.compile(r"\.\./shared|/work/shared|\bseed \d{3}\b|(?<![\w/])domain\.md")
    found = [
        f"{path}: {m.group(0)}"
        for path, text in _texts().items()
        if path != "tests/test_docs_references.py"
        for m in outside.finditer(text)
    ]
    assert not found, found
