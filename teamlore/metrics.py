"""Prometheus metrics of the process (one registry), exposed at /metrics."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

__all__ = [
    "FRONTEND_ERRORS",
    "FRONTEND_LAST_ACTIVITY",
    "FRONTEND_RESTARTS",
    "FRONTEND_UP",
    "INDEX_LAG",
    "INDEX_VECTORS",
    "INGEST_FAILURES",
    "MEMORIES",
    "QUALITY_SCORE",
    "REGISTRY",
    "REQUESTS",
    "REQUEST_SECONDS",
]

REGISTRY = CollectorRegistry(auto_describe=True)

REQUESTS = Counter(
    "teamlore_requests",
    "Handled requests by front-end, command and outcome.",
    ["frontend", "command", "outcome"],
    registry=REGISTRY,
)
REQUEST_SECONDS = Histogram(
    "teamlore_request_seconds",
    "Time to handle a request, by front-end and command.",
    ["frontend", "command"],
    registry=REGISTRY,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
MEMORIES = Gauge("teamlore_memories", "Memories stored, per tenant.", ["tenant"], registry=REGISTRY)
INDEX_VECTORS = Gauge(
    "teamlore_index_vectors", "Vectors in this process's index, per tenant.", ["tenant"], registry=REGISTRY
)
QUALITY_SCORE = Gauge(
    "teamlore_quality_score", "Latest quality score (0-100), per tenant.", ["tenant"], registry=REGISTRY
)
INGEST_FAILURES = Gauge(
    "teamlore_ingest_failures",
    'Ingest failures recorded in the last 24 hours (tenant "(none)": refused before a tenant was known).',
    ["tenant"],
    registry=REGISTRY,
)
FRONTEND_RESTARTS = Counter(
    "teamlore_frontend_restarts", "Front-ends restarted after a failure.", ["frontend"], registry=REGISTRY
)
FRONTEND_UP = Gauge(
    "teamlore_frontend_up",
    "1 while an enabled front-end runs, 0 while it is down.",
    ["frontend"],
    registry=REGISTRY,
)
FRONTEND_LAST_ACTIVITY = Gauge(
    "teamlore_frontend_last_activity_timestamp_seconds",
    "Unix time of the front-end's last handled request or event.",
    ["frontend"],
    registry=REGISTRY,
)
FRONTEND_ERRORS = Counter(
    "teamlore_frontend_errors",
    "Errors a front-end handled or failed with (5xx answers, logged errors, crashes).",
    ["frontend"],
    registry=REGISTRY,
)
INDEX_LAG = Gauge(
    "teamlore_index_lag_changes",
    "Change-log entries (writes and deletes by any process) this process's index had not applied when "
    "scraped.",
    registry=REGISTRY,
)
