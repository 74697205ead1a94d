"""The events this process has just stored, by log position, for its relay to publish as they are.

The relay reads every stored event back from the notification log (the outbox; its order and
positions are the truth), but when this process stored the event itself it still holds it: the
relay publishes that one instead of decoding the stored form again (its JSON and the fact's
validation were a quarter of the relay's work during an import). An event is taken only for the
position, aggregate and version the log says, and the message is made from it by the same code
(`Registration.to_message`), so what is published does not change. Kept only while this process's
relay leads, at most `limit` events; anything the relay has passed is dropped.
"""

import threading
from collections.abc import Iterable
from typing import Any


class RecentEvents:
    def __init__(self, limit: int = 20_000):
        self.limit = limit
        self._events: dict[int, Any] = {}
        self._lock = threading.Lock()
        self._wanted = False

    def want(self, wanted: bool) -> None:
        """Whether to keep events: only while a relay in this process publishes them."""
        with self._lock:
            self._wanted = wanted
            if not wanted:
                self._events.clear()

    def remember(self, stored: Iterable[tuple[int, Any]]) -> None:
        """Events just committed, each with its log position."""
        with self._lock:
            if not self._wanted:
                return
            for position, domain_event in stored:
                if len(self._events) >= self.limit:
                    return  # the relay is far behind: it decodes the rest from the log
                self._events[position] = domain_event

    def take(self, position: int, originator_id: Any, originator_version: int) -> Any | None:
        """The event stored at `position`, if this process stored it and still holds it."""
        with self._lock:
            domain_event = self._events.pop(position, None)
        if domain_event is None:
            return None
        if domain_event.originator_id != originator_id or domain_event.originator_version != originator_version:
            return None
        return domain_event

    def forget_up_to(self, position: int) -> None:
        """Drops what the relay has passed (events remembered after it read their positions)."""
        with self._lock:
            for stale in [p for p in self._events if p <= position]:
                del self._events[stale]

    def __len__(self) -> int:
        return len(self._events)
