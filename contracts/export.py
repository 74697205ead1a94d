"""Writes the contracts as documents: JSON Schema for every fact and message, and the AsyncAPI
document of the bus. `python -m contracts.export` rewrites them; tests/test_contracts_export.py
fails when the files in the repository no longer match the code.

- `contracts/schema/facts/<FactType>.json`: what a client submits (validation schema; `cpr` is
  accepted at the edge only), with `x-schema-version` of the event it becomes;
- `contracts/schema/EventMessage.json`, `AlertMessage.json`: what is on the streams;
- `contracts/schema/ImportLine.json`: one line of a file for `casetrack import` (contracts/imports.py);
- `contracts/asyncapi.yaml`: the bus, every subject with its payload and headers (contracts/asyncapi.py).
"""

import json
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from contracts import asyncapi
from contracts.alerts import AlertMessage
from contracts.events import EventMessage
from contracts.facts import FACT_TYPES, schema_version
from contracts.imports import ImportLine

HERE = Path(__file__).parent
DOCUMENT = asyncapi.DOCUMENT


def documents() -> dict[Path, str]:
    """Every document by its path relative to contracts/, as it should read."""
    docs: dict[Path, str] = {}
    for fact_type in FACT_TYPES:
        schema = fact_type.model_json_schema(mode="validation")
        schema["x-schema-version"] = schema_version(fact_type.__name__)
        docs[Path("schema/facts") / f"{fact_type.__name__}.json"] = _json(schema)
    for message in (EventMessage, AlertMessage):
        docs[Path("schema") / f"{message.__name__}.json"] = _json(_serialization_schema(message))
    docs[Path("schema") / "ImportLine.json"] = _json(ImportLine.model_json_schema(mode="validation"))
    docs[DOCUMENT.relative_to(HERE)] = asyncapi.render()
    return docs


def _serialization_schema(model: type[BaseModel]) -> dict[str, Any]:
    return model.model_json_schema(mode="serialization")


def _json(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def main() -> int:
    wanted = documents()
    for path, text in wanted.items():
        target = HERE / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    for stale in (HERE / "schema").rglob("*.json"):
        if stale.relative_to(HERE) not in wanted:
            stale.unlink()
    print(f"wrote {len(wanted)} documents under {HERE}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
