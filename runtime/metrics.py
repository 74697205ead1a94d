"""Prometheus metrics shared by the services; each process has its own registry."""

from prometheus_client import Counter, Gauge, Histogram

EVENTS_PROCESSED = Counter(
    "casetrack_events_processed_total", "Events applied (or published, for the relay)", ["service"]
)
EVENTS_SKIPPED = Counter("casetrack_events_skipped_total", "Redelivered events skipped as already applied", ["service"])
CONSUMER_LAG = Gauge("casetrack_consumer_lag", "Messages in the stream not yet processed by this consumer", ["service"])
EVENTS_PARKED = Gauge(
    "casetrack_events_parked", "Events parked after failing every attempt, waiting for a re-drive", ["service"]
)
ERRORS = Counter("casetrack_errors_total", "Errors by kind", ["service", "kind"])
REQUEST_LATENCY = Histogram(
    "casetrack_http_request_duration_seconds",
    "HTTP request latency",
    ["service", "method", "route", "status"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
AUDIT_ENTRIES_SKIPPED = Counter(
    "casetrack_audit_entries_skipped_total",
    "Audit entries left out of the audit query: invalid, written under another service's name, or repeated",
    ["service", "reason"],
)
