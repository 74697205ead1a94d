"""Publishes every alert transition onto NATS, once (alert_transitions is this service's outbox),
and every change of a rule's configuration (alert_rule_config_outbox; contracts/rule_config.py).

A transition is marked published only after the stream acknowledged it; a crash in between
republishes it with the same Nats-Msg-Id, which the stream drops. A configuration is published
whole, so publishing it again is harmless.
"""

import asyncio
import json
import logging

import asyncpg
from nats.js import JetStreamContext
from pydantic import ValidationError

from contracts.alerts import ALERTS_STREAM, AlertMessage, alert_message_id, alert_subject
from contracts.rule_config import RULE_CONFIG_STREAM, RuleConfigMessage, rule_config_subject
from runtime.metrics import ERRORS

log = logging.getLogger(__name__)


async def publish_pending(pool: asyncpg.Pool, js: JetStreamContext, limit: int = 200) -> int:
    async with pool.acquire() as db, db.transaction():
        rows = await db.fetch(
            """SELECT t.id AS transition_row, t.transition, t.state AS transition_state, a.*
               FROM alert_transitions t JOIN alerts a ON a.id = t.alert_id
               WHERE NOT t.published ORDER BY t.id LIMIT $1 FOR UPDATE OF t SKIP LOCKED""",
            limit,
        )
        published = []
        for row in rows:
            try:
                message = AlertMessage(
                    alert_id=row["id"],
                    transition=row["transition"],
                    rule=row["rule"],
                    subject_type=row["subject_type"],
                    subject_id=row["subject_id"],
                    municipality=row["municipality"],
                    team=row["team"],
                    state=row["transition_state"],
                    severity=row["severity"],
                    raised_at=row["raised_at"],
                    details=json.loads(row["details"]),
                )
            except ValidationError:
                # Kept unpublished (and logged) rather than stalling every transition behind it.
                ERRORS.labels("alerts", "unpublishable").inc()
                log.exception("alert transition does not fit AlertMessage", extra={"alert_id": str(row["id"])})
                continue
            await js.publish(
                alert_subject(message.municipality, message.team),
                message.model_dump_json().encode(),
                headers={"Nats-Msg-Id": alert_message_id(message.alert_id, message.transition)},
                stream=ALERTS_STREAM,
                timeout=5,
            )
            published.append(row["transition_row"])
        if published:
            await db.execute("UPDATE alert_transitions SET published = true WHERE id = ANY($1::bigint[])", published)
    return len(published)


async def publish_rule_config(pool: asyncpg.Pool, js: JetStreamContext, limit: int = 100) -> int:
    async with pool.acquire() as db, db.transaction():
        changed = await db.fetch(
            """SELECT rule, municipality, changed_at, changed_by FROM alert_rule_config_outbox
               ORDER BY changed_at LIMIT $1 FOR UPDATE SKIP LOCKED""",
            limit,
        )
        for row in changed:
            scopes = await db.fetch(
                "SELECT scope, params FROM alert_rule_config WHERE rule = $1 AND municipality = $2",
                row["rule"],
                row["municipality"],
            )
            message = RuleConfigMessage(
                municipality=row["municipality"],
                rule=row["rule"],
                overrides={r["scope"]: json.loads(r["params"]) for r in scopes},
                changed_at=row["changed_at"],
                changed_by=row["changed_by"],
            )
            await js.publish(
                rule_config_subject(message.municipality, message.rule),
                message.model_dump_json().encode(),
                stream=RULE_CONFIG_STREAM,
                timeout=5,
            )
            await db.execute(
                "DELETE FROM alert_rule_config_outbox WHERE rule = $1 AND municipality = $2",
                row["rule"],
                row["municipality"],
            )
    return len(changed)


async def publish_forever(pool: asyncpg.Pool, js: JetStreamContext, stop: asyncio.Event, interval: float) -> None:
    while not stop.is_set():
        try:
            published = await publish_pending(pool, js) + await publish_rule_config(pool, js)
        except Exception as exc:
            ERRORS.labels("alerts", "publish").inc()
            log.warning("alert publish failed; retrying", extra={"error": repr(exc)})
            published = 0
        if not published:
            try:
                await asyncio.wait_for(stop.wait(), timeout=interval)
            except TimeoutError:
                pass
