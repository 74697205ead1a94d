"""The daily e-mail digest: each team leader with a work e-mail gets their team's open alerts once a day.

Team leaders come from the WorkerRegistered / WorkerMovedTeam / WorkerLeft facts (alert_workers).
A digest is claimed by a row in alert_digests, (leader, day) unique, inserted in the transaction
that sends it: replicas and restarts do not send a day's digest twice, and a failed send rolls the
claim back so the next cycle tries again. (A crash between the SMTP server accepting the mail and
the commit sends it again: at least once.)
"""

import asyncio
import logging
import smtplib
from dataclasses import dataclass
from datetime import date, timedelta
from email.message import EmailMessage
from typing import Any

import asyncpg

from runtime.clock import SystemClock
from runtime.metrics import ERRORS
from services.alerts import evaluation, rules, store

log = logging.getLogger(__name__)

STATUS_RULE = "status_due"
CLOSING_WITHIN_DAYS = 7  # the digest warns of status windows that close within this many days


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int = 25
    sender: str = "casetrack@localhost"
    hour: int = 6  # UTC hour from which the day's digest is due
    username: str | None = None
    password: str | None = None
    starttls: bool = False

    @classmethod
    def from_env(cls, extra: dict[str, str]) -> "SmtpSettings | None":
        host = extra.get("CASETRACK_SMTP_HOST")
        if not host:
            return None
        return cls(
            host=host,
            port=int(extra.get("CASETRACK_SMTP_PORT", "25")),
            sender=extra.get("CASETRACK_SMTP_FROM", "casetrack@localhost"),
            hour=int(extra.get("CASETRACK_ALERTS_DIGEST_HOUR", "6")),
            username=extra.get("CASETRACK_SMTP_USERNAME"),
            password=extra.get("CASETRACK_SMTP_PASSWORD"),
            starttls=extra.get("CASETRACK_SMTP_STARTTLS", "false") == "true",
        )


async def closing_statuses(db: asyncpg.Connection, municipality: str, team: str, day: date) -> list[dict[str, Any]]:
    """The team's courses whose status window (status_due) closes within CLOSING_WITHIN_DAYS days
    and would raise the alert as things stand: each with the day it closes and what is missing."""
    rule = rules.CATALOGUE[STATUS_RULE]
    config = await evaluation.overrides(db, municipality)
    closing = []
    for row in await db.fetch(
        """SELECT subject_id, due_on FROM alert_deadlines
           WHERE rule = $1 AND municipality = $2 AND team = $3 AND subject_type = 'course' AND state = 'pending'
             AND due_on > $4 AND due_on <= $5 ORDER BY due_on, subject_id""",
        STATUS_RULE,
        municipality,
        team,
        day,
        day + timedelta(days=CLOSING_WITHIN_DAYS + 1),  # due_on: the day after the window's last
    ):
        view = await evaluation.load_course(db, municipality, row["subject_id"])
        if view is None:
            continue
        params = rules.effective_params(rule, config.get(STATUS_RULE, {}), team=view.team, method=view.method)
        verdict = rule.checks["course"](view, params, row["due_on"])
        if verdict.holds(row["due_on"]):
            closing.append(
                {"course": row["subject_id"], "closes": row["due_on"] - timedelta(days=1), "missing": verdict.details}
            )
    return closing


def compose(
    sender: str,
    to: str,
    team: str,
    day: date,
    alerts: list[dict[str, Any]],
    closing: list[dict[str, Any]] | None = None,
) -> EmailMessage:
    """The digest mail: Danish first, English names alongside, one line per alert; then the status
    windows about to close without a complete status."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = f"casetrack: {len(alerts)} åbne advarsler for {team} ({day.isoformat()})"
    lines = [f"Åbne advarsler for team {team} pr. {day.isoformat()} / Open alerts for team {team}:", ""]
    if closing:
        lines[:0] = [
            f"Status, der lukker inden for {CLOSING_WITHIN_DAYS} dage uden alle registreringer"
            f" / Status windows closing within {CLOSING_WITHIN_DAYS} days without every registration:",
            *(
                f"- course {c['course']}: lukker/closes {c['closes'].isoformat()},"
                f" mangler/missing {c['missing'].get('status', '')}"
                for c in closing
            ),
            "",
        ]
    for alert in alerts:
        rule = rules.CATALOGUE.get(alert["rule"])
        name = f"{rule.name_da} / {rule.name_en}" if rule else alert["rule"]
        lines.append(
            f"- [{alert['severity']}] {name}: {alert['subject_type']} {alert['subject_id']}"
            f" ({alert['state']}, siden/since {alert['raised_at'][:10]})"
        )
        if alert["details_text"]["da"]:
            lines.append(f"  {alert['details_text']['da']}")
    message.set_content("\n".join(lines) + "\n")
    return message


def _send(settings: SmtpSettings, message: EmailMessage) -> None:
    with smtplib.SMTP(settings.host, settings.port, timeout=30) as smtp:
        if settings.starttls:
            smtp.starttls()
        if settings.username:
            smtp.login(settings.username, settings.password or "")
        smtp.send_message(message)


async def send_due_digests(pool: asyncpg.Pool, clock: SystemClock, settings: SmtpSettings) -> int:
    """Sends today's digests not sent yet; returns how many were sent."""
    now = clock.now()
    if now.hour < settings.hour:
        return 0
    leaders = await pool.fetch(
        """SELECT municipality, worker_id, team, email FROM alert_workers
           WHERE role = 'team_leader' AND active AND email IS NOT NULL ORDER BY municipality, worker_id"""
    )
    sent = 0
    for leader in leaders:
        async with pool.acquire() as db, db.transaction():
            team_alerts = [
                a
                for a in (await store.list_alerts(db, municipality=leader["municipality"], team=leader["team"]))[0]
                if a["state"] in ("open", "acknowledged")
            ]
            claimed = await db.fetchval(
                """INSERT INTO alert_digests (municipality, worker_id, day, email, alerts, sent_at)
                   VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING true""",
                leader["municipality"],
                leader["worker_id"],
                now.date(),
                leader["email"],
                len(team_alerts),
                now,
            )
            closing = await closing_statuses(db, leader["municipality"], leader["team"], now.date())
            if not claimed or not (team_alerts or closing):
                continue  # sent already, or nothing to tell today
            message = compose(settings.sender, leader["email"], leader["team"], now.date(), team_alerts, closing)
            await asyncio.to_thread(_send, settings, message)
            sent += 1
    return sent


async def digest_forever(
    pool: asyncpg.Pool, clock: SystemClock, settings: SmtpSettings, stop: asyncio.Event, interval: float
) -> None:
    while not stop.is_set():
        try:
            await send_due_digests(pool, clock, settings)
        except Exception as exc:
            ERRORS.labels("alerts", "digest").inc()
            log.warning("digest failed; retrying", extra={"error": repr(exc)})
        try:
            await asyncio.wait_for(stop.wait(), timeout=interval)
        except TimeoutError:
            pass
