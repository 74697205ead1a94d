"""The municipalities' alert-rule configuration, read from the stream the alerts service publishes it
on (contracts/rule_config.py), so that P3 and P7 use the norms the alert rules use."""

import logging
from collections.abc import Iterable, Mapping

from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from contracts.rule_config import (
    RULE_CONFIG_STREAM,
    SHARED_NORM_RULES,
    Overrides,
    RuleConfigMessage,
    rule_config_subject,
)
from runtime.metrics import ERRORS

log = logging.getLogger(__name__)


class RuleConfigReader:
    """Reads the last configuration of each shared-norm rule per municipality (a direct get by
    subject, so each query sees a change at once). While the bus cannot answer, the last value read
    is used, or the defaults if there is none."""

    def __init__(self, js: JetStreamContext):
        self.js = js
        self._last: dict[tuple[str, str], Overrides] = {}

    async def config(self, municipality: str) -> Mapping[str, Overrides]:
        return {rule: await self._overrides(municipality, rule) for rule in SHARED_NORM_RULES}

    async def configs(self, municipalities: Iterable[str]) -> dict[str, Mapping[str, Overrides]]:
        return {municipality: await self.config(municipality) for municipality in municipalities}

    async def _overrides(self, municipality: str, rule: str) -> Overrides:
        key = (municipality, rule)
        try:
            message = await self.js.get_last_msg(
                RULE_CONFIG_STREAM, rule_config_subject(municipality, rule), direct=True
            )
            overrides: Overrides = RuleConfigMessage.model_validate_json(message.data or b"").overrides
        except NotFoundError:
            overrides = {}
        except Exception as exc:  # the bus away, or a message that does not fit: keep the last known
            ERRORS.labels("projections", "rule_config").inc()
            log.warning("rule configuration not read; using the last known", extra={"error": repr(exc), "rule": rule})
            return self._last.get(key, {})
        self._last[key] = overrides
        return overrides
