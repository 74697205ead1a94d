"""The AsyncAPI document of casetrack's bus, generated from the contracts so that it cannot drift.

Every subject a case system or an operator meets on NATS, with the JSON Schema of its payload and
headers as pydantic gives it for the contract models:

- `casetrack.facts.submit` — request/reply: a fact or a batch in, `{"status", "body"}` back
  (contracts/submission.py);
- `casetrack.events.<municipality>.<type>` — every stored event (contracts/events.py);
- `casetrack.alerts.<municipality>.<team>` — every alert transition (contracts/alerts.py);
- `casetrack.audit.<service>.<municipality>.<subject type>.<subject id>` — the read audit trail
  (contracts/audit.py);
- `casetrack.ruleconfig.<municipality>.<rule>` — a rule's configuration (contracts/rule_config.py).

`python -m contracts.asyncapi` (or `python -m contracts.export`, which writes every contract
document) rewrites contracts/asyncapi.yaml; tests/test_contracts_export.py fails when the file
differs from what this module makes, and tests/test_asyncapi.py validates the file with the AsyncAPI
CLI and real messages of every channel against it.
"""

import sys
from pathlib import Path
from typing import Any, get_args

import yaml
from pydantic import TypeAdapter
from pydantic.json_schema import JsonSchemaMode

from contracts.alerts import ALERTS_STREAM, ALERTS_SUBJECT_ROOT, AlertHeaders, AlertMessage
from contracts.audit import AUDIT_STREAM, AUDIT_SUBJECT_ROOT, AuditEntry, AuditHeaders, SubjectType
from contracts.events import EVENTS_STREAM, EVENTS_SUBJECT_ROOT, EventHeaders, EventMessage
from contracts.facts import FACT_TYPES, Fact
from contracts.rule_config import RULE_CONFIG_STREAM, RULE_CONFIG_SUBJECT_ROOT, RuleConfigMessage
from contracts.submission import FACTS_SUBMIT_SUBJECT, FactBatch, SubmitHeaders, SubmitReply

HERE = Path(__file__).parent
DOCUMENT = HERE / "asyncapi.yaml"
ASYNCAPI_VERSION = "3.1.0"
SCHEMAS = "#/components/schemas/"

# What the document names each payload and header schema, and the mode pydantic renders it in:
# what a client sends is validated ("validation"), what casetrack sends is serialised.
_MODELS: list[tuple[str, JsonSchemaMode, Any]] = [
    ("Fact", "validation", Fact),
    ("FactBatch", "validation", FactBatch),
    ("SubmitHeaders", "validation", SubmitHeaders),
    ("SubmitReply", "serialization", SubmitReply),
    ("EventMessage", "serialization", EventMessage),
    ("EventHeaders", "serialization", EventHeaders),
    ("AlertMessage", "serialization", AlertMessage),
    ("AlertHeaders", "serialization", AlertHeaders),
    ("AuditEntry", "serialization", AuditEntry),
    ("AuditHeaders", "serialization", AuditHeaders),
    ("RuleConfigMessage", "serialization", RuleConfigMessage),
]


def document() -> dict[str, Any]:
    """The AsyncAPI 3 document as a mapping."""
    named, schemas = _schemas()
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": "casetrack bus",
            "version": "2",  # 2: EventMessage.imported (an imported fact's source and recorded time)
            "description": "What casetrack receives and publishes on NATS: facts in by request/reply, "
            "recorded events, alert transitions, the read audit trail and rule configurations out on "
            "JetStream. Every connection signs in as its own NATS user with only these subjects "
            "(README, 'NATS users and permissions').",
        },
        "defaultContentType": "application/json",
        "servers": {
            "production": {
                "host": "nats:4222",
                "protocol": "nats",
                "description": "nats-server with JetStream (deploy/nats.conf); no anonymous clients",
            }
        },
        "channels": {
            "submitFacts": {
                "address": FACTS_SUBMIT_SUBJECT,
                "title": "submit facts",
                "description": "Request/reply (queue group `registration`): one fact as for POST /v1/facts "
                "or {'facts': [...]} as for POST /v1/facts/batch. The request's reply subject must be the "
                "requester's own inbox, `_INBOX.client-<municipality of its token>.…` (the operator's "
                "`_INBOX.admin.…`): any other is neither answered nor carried out.",
                "messages": {"factSubmission": _ref("components", "messages", "factSubmission")},
            },
            "submitFactsReply": {
                "address": None,  # the requester's inbox, named by each request
                "title": "the answer to a submission",
                "description": "Into the requester's inbox: `{status, body}`, the HTTP status and body the "
                "same request would have got over HTTP.",
                "messages": {"submitReply": _ref("components", "messages", "submitReply")},
            },
            "events": {
                "address": f"{EVENTS_SUBJECT_ROOT}.{{municipality}}.{{type}}",
                "title": "recorded events",
                "description": f"Every stored event once, in log order, on stream {EVENTS_STREAM} "
                "(published by registration's relay).",
                "parameters": {
                    "municipality": _MUNICIPALITY,
                    "type": {"description": "the fact type", "enum": [t.__name__ for t in FACT_TYPES]},
                },
                "messages": {"event": _ref("components", "messages", "event")},
            },
            "alerts": {
                "address": f"{ALERTS_SUBJECT_ROOT}.{{municipality}}.{{team}}",
                "title": "alert transitions",
                "description": f"Each alert as it is raised and at each transition (acknowledged, snoozed, "
                f"resolved), on stream {ALERTS_STREAM}; a case system hears its own municipality's as "
                "core NATS messages.",
                "parameters": {"municipality": _MUNICIPALITY, "team": {"description": "the team's id"}},
                "messages": {"alert": _ref("components", "messages", "alert")},
            },
            "audit": {
                "address": f"{AUDIT_SUBJECT_ROOT}.{{service}}.{{municipality}}.{{subjectType}}.{{subjectId}}",
                "title": "read audit trail",
                "description": f"One entry per read of a citizen's or course's data, written before the read "
                f"is served, on stream {AUDIT_STREAM} (no deletes, no purges); each service writes under "
                "its own name only.",
                "parameters": {
                    "service": {"description": "the service that served the read, e.g. registration"},
                    "municipality": _MUNICIPALITY,
                    "subjectType": {"description": "what was read", "enum": list(get_args(SubjectType))},
                    "subjectId": {"description": "its pseudonymous id"},
                },
                "messages": {"auditEntry": _ref("components", "messages", "auditEntry")},
            },
            "ruleConfig": {
                "address": f"{RULE_CONFIG_SUBJECT_ROOT}.{{municipality}}.{{rule}}",
                "title": "alert rule configuration",
                "description": f"A rule's whole configuration in a municipality after each change, on stream "
                f"{RULE_CONFIG_STREAM}; projections reads the last one (KPIs P3, P7 share the norms).",
                "parameters": {"municipality": _MUNICIPALITY, "rule": {"description": "the rule's id"}},
                "messages": {"ruleConfig": _ref("components", "messages", "ruleConfig")},
            },
        },
        "operations": {
            "submitFacts": {
                "action": "receive",
                "title": "registration answers a submission",
                "channel": _ref("channels", "submitFacts"),
                "messages": [_ref("channels", "submitFacts", "messages", "factSubmission")],
                "reply": {
                    "channel": _ref("channels", "submitFactsReply"),
                    "messages": [_ref("channels", "submitFactsReply", "messages", "submitReply")],
                },
            },
            "publishEvents": _send("events", "event", "registration's relay publishes each stored event"),
            "publishAlerts": _send("alerts", "alert", "alerts publishes each alert transition"),
            "publishAuditEntries": _send("audit", "auditEntry", "a service records a read before serving it"),
            "publishRuleConfig": _send("ruleConfig", "ruleConfig", "alerts publishes a changed configuration"),
        },
        "components": {
            "messages": _named(
                {
                    "factSubmission": _message(
                        named, "a fact or a batch of facts", "FactBatch", "SubmitHeaders", "Fact"
                    ),
                    "submitReply": _message(named, "the answer: HTTP status and body", "SubmitReply"),
                    "event": _message(named, "a stored event", "EventMessage", "EventHeaders"),
                    "alert": _message(named, "an alert transition", "AlertMessage", "AlertHeaders"),
                    "auditEntry": _message(named, "who read which data", "AuditEntry", "AuditHeaders"),
                    "ruleConfig": _message(named, "a rule's configuration", "RuleConfigMessage"),
                }
            ),
            "schemas": schemas,
        },
    }


_MUNICIPALITY = {"description": "3-digit municipality code (kommunekode), e.g. 101"}


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True  # a repeated part is written out again, not as a YAML anchor


def payload_schema(doc: dict[str, Any], message: str, part: str = "payload") -> dict[str, Any]:
    """A message's payload (or headers) schema from `doc`, standalone: with the document's
    components beside it, so that its `$ref`s resolve (for jsonschema)."""
    schema = doc["components"]["messages"][message][part]
    return {**schema, "components": doc["components"]}


def _schemas() -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """The schema of each named model (a `$ref`, or inline for a union) and every component schema."""
    inputs = [(name, mode, TypeAdapter(model)) for name, mode, model in _MODELS]
    by_key, top = TypeAdapter.json_schemas(inputs, ref_template=SCHEMAS + "{model}")
    named = {name: _asyncapi_schema(by_key[(name, mode)]) for name, mode, _ in _MODELS}
    components = {key: _asyncapi_schema(schema) for key, schema in sorted(top.get("$defs", {}).items())}
    return named, components


def _asyncapi_schema(node: Any) -> Any:
    """pydantic writes JSON Schema 2020-12 with OpenAPI's discriminator object; an AsyncAPI schema
    (JSON Schema draft 7 and a few keywords) names the discriminating property alone."""
    if isinstance(node, list):
        return [_asyncapi_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: _asyncapi_schema(value) for key, value in node.items()}
    discriminator = converted.get("discriminator")
    if isinstance(discriminator, dict):
        converted["discriminator"] = discriminator["propertyName"]
    return converted


def _message(
    named: dict[str, dict[str, Any]], summary: str, payload: str, headers: str | None = None, alternative: str = ""
) -> dict[str, Any]:
    body = named[payload] if not alternative else {"oneOf": [named[alternative], named[payload]]}
    message: dict[str, Any] = {"summary": summary, "contentType": "application/json"}
    if headers:
        message["headers"] = named[headers]
    message["payload"] = body
    return message


def _named(messages: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {key: {"name": key, **message} for key, message in messages.items()}


def _send(channel: str, message: str, title: str) -> dict[str, Any]:
    return {
        "action": "send",
        "title": title,
        "channel": _ref("channels", channel),
        "messages": [_ref("channels", channel, "messages", message)],
    }


def _ref(*path: str) -> dict[str, str]:
    return {"$ref": "#/" + "/".join(path)}


def render() -> str:
    """The document as it is committed."""
    return yaml.dump(document(), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=110)


def main() -> int:
    DOCUMENT.write_text(render(), encoding="utf-8")
    print(f"wrote {DOCUMENT}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
