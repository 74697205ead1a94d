"""Prometheus metrics shared by the services; each process has its own registry."""

from prometheus_client import Counter, Gauge, Histogram

EVENTS_PROCESSED = Counter(
    "casetrack_events_processed_total", "Events applied (or published, for the relay)", ["service"]
)
EVENTS_SKIPPED = Counter("casetrack_events_skipped_total", "Redelivered events skipped as already applied", ["service"])
CONSUMER_LAG = Gauge("casetrack_consumer_lag", "Messages in the stream not yet processed by this consumer", ["service"])
# Partitioned apply (runtime/partitions.py): per partition of the events stream.
PARTITION_LAG = Gauge(
    "casetrack_partition_lag",
    "Messages in a partition of the events stream not yet applied, for the partitions this replica leads",
    ["service", "partition"],
)
PARTITION_LED = Gauge(
    "casetrack_partition_led", "1 while this replica leads the partition, else 0", ["service", "partition"]
)
EVENTS_PARKED = Gauge(
    "casetrack_events_parked", "Events parked after failing every attempt, waiting for a re-drive", ["service"]
)
ERRORS = Counter("casetrack_errors_total", "Errors by kind", ["service", "kind"])
# A backing service (PostgreSQL, NATS; for the dashboard, an API behind it) did not answer: the
# request got 503 and should be retried. deploy/prometheus-alerts.yml pages on it.
UNAVAILABLE = "unavailable"
# The reasons of the 503 answers that mean UNAVAILABLE (the others, e.g. master_key_missing, are
# the service's configuration, not an outage).
BACKING_SERVICE_REASONS = frozenset({"service_unavailable", "audit_unavailable", "audit_trail_unavailable"})
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


def count_refusal(service: str, status: int, reason: str) -> None:
    """Counts a refusal that means a backing service is away (HTTP and NATS answers alike)."""
    if status == 503 and reason in BACKING_SERVICE_REASONS:
        ERRORS.labels(service, UNAVAILABLE).inc()


def start_counting(service: str) -> None:
    """Makes the service's paged error series exist from the start, at 0. A counter series that first
    appears with its first error has no earlier sample, so `increase()`/`rate()` cannot see that
    first burst and the alert would wait for a second one (deploy/prometheus-alerts.test.yml)."""
    ERRORS.labels(service, UNAVAILABLE)
