"""The audit trail of reads: every read of a citizen's data is on the stream before it is served.

The entry is published to JetStream and its acknowledgement awaited; if the bus cannot take it, the
read fails with 503 rather than happening unrecorded.
"""

import asyncio
import logging
from datetime import datetime, timezone
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from nats.js import JetStreamContext
from nats.js.api import DeliverPolicy

from contracts.audit import AUDIT_STREAM, AUDIT_SUBJECT_ROOT, AuditEntry, SubjectType, audit_subject
from runtime.auth import Principal, current_principal
from runtime.errors import ApiError

log = logging.getLogger(__name__)


class AuditLog:
    def __init__(self, js: JetStreamContext, service: str):
        self.js = js
        self.service = service

    async def record_read(
        self, principal: Principal, *, action: str, municipality: str, subject_type: SubjectType, subject_id: str
    ) -> None:
        entry = AuditEntry(
            at=datetime.now(timezone.utc), service=self.service, actor=principal.name, role=principal.role,
            municipality=municipality, action=action, subject_type=subject_type, subject_id=subject_id,
        )
        await self.js.publish(
            audit_subject(self.service, municipality, subject_type, subject_id),
            entry.model_dump_json().encode(),
            headers={"Nats-Msg-Id": str(entry.id)},
            stream=AUDIT_STREAM,
            timeout=5,
        )

    async def entries(
        self, municipality: str, subject_type: str | None = None, subject_id: str | None = None, limit: int = 1000
    ) -> list[AuditEntry]:
        """The entries for a municipality, optionally for one subject, oldest first."""
        subject = f"{AUDIT_SUBJECT_ROOT}.*.{municipality}.{subject_type or '*'}.{subject_id or '*'}"
        info = await self.js.stream_info(AUDIT_STREAM, subjects_filter=subject)
        if not info.state.subjects:
            return []
        found: list[AuditEntry] = []
        subscription = await self.js.subscribe(
            subject, ordered_consumer=True, deliver_policy=DeliverPolicy.ALL, stream=AUDIT_STREAM
        )
        try:
            while len(found) < limit:
                try:
                    message = await subscription.next_msg(timeout=2.0)
                except asyncio.TimeoutError:
                    break
                found.append(AuditEntry.model_validate_json(message.data))
                if message.metadata.num_pending == 0:
                    break
        finally:
            await subscription.unsubscribe()
        return found


def audit_unavailable() -> ApiError:
    return ApiError(
        503,
        "audit_unavailable",
        "Opslaget kan ikke logges lige nu og vises derfor ikke; prøv igen.",
        "The read cannot be put on the audit trail right now, so it is not served; retry later.",
    )


async def audited_read(
    request: Request, principal: Principal, *, action: str, municipality: str, subject_type: SubjectType,
    subject_id: str,
) -> None:
    """Records a read of a citizen's (or course's) data on the service's audit log before it is
    served: a service without one, or a bus that does not take the entry, answers 503."""
    audit: AuditLog | None = getattr(request.app.state, "audit", None)
    if audit is None:
        raise audit_unavailable()
    try:
        await audit.record_read(principal, action=action, municipality=municipality,
                                subject_type=subject_type, subject_id=subject_id)
    except Exception as exc:  # timeouts, no responders, a closed connection: nothing is served
        log.warning("audit entry not written", extra={"error": repr(exc), "action": action})
        raise audit_unavailable() from None


audit_router = APIRouter(tags=["operations"])


@audit_router.get("/v1/audit/reads")
async def audit_reads(
    request: Request,
    principal: Annotated[Principal, Depends(current_principal)],
    municipality: Annotated[str, Query(pattern=r"^\d{3}$")],
    subject_type: Annotated[SubjectType | None, Query()] = None,
    subject_id: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")] = None,
) -> dict[str, object]:
    """Who read which citizen's data (administrator only)."""
    principal.ensure_admin()
    entries = await request.app.state.audit.entries(municipality, subject_type, subject_id)
    return {"municipality": municipality, "reads": [e.model_dump(mode="json") for e in entries]}
