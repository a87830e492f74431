"""The scheduler: quality alerts, digests, the expiry sweep and index snapshots, posted to chat."""

from .alerts import AlertState, Assessment, assess, next_state
from .config import AlertsSettings
from .jobs import JobRuntime, run_digest, run_expiry_sweep, run_quality_check, run_snapshot
from .message import Delivery, Notification, Section
from .notifiers import Notifier, build_notifiers, notify_all, sign
from .runner import SchedulerHandle, run_scheduler
from .store import SchedulerStore, sync_database_url

__all__ = [
    "AlertState",
    "AlertsSettings",
    "Assessment",
    "Delivery",
    "JobRuntime",
    "Notification",
    "Notifier",
    "SchedulerHandle",
    "SchedulerStore",
    "Section",
    "assess",
    "build_notifiers",
    "next_state",
    "notify_all",
    "run_digest",
    "run_expiry_sweep",
    "run_quality_check",
    "run_scheduler",
    "run_snapshot",
    "sign",
    "sync_database_url",
]
