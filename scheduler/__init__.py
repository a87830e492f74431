"""The scheduler: quality alerts, digests, the expiry sweep and index snapshots, posted to chat."""

from __future__ import annotations

from typing import TYPE_CHECKING

from memory_core import lazy_exports

if TYPE_CHECKING:
    from .alerts import AlertState, Assessment, assess, next_state
    from .config import AlertsSettings
    from .jobs import JobRuntime, run_digest, run_expiry_sweep, run_quality_check, run_snapshot
    from .message import Delivery, Notification, Section
    from .notifiers import Notifier, build_notifiers, notify_all, sign
    from .runner import SchedulerHandle, run_scheduler
    from .store import SchedulerStore, sync_database_url

# Names resolve on first use (memory_core._lazy), so importing one light module of the package, or
# the package for its settings model, does not pull in every heavy dependency (see teamlore.cli).
_WHERE = {
    "AlertState": ".alerts",
    "Assessment": ".alerts",
    "assess": ".alerts",
    "next_state": ".alerts",
    "AlertsSettings": ".config",
    "JobRuntime": ".jobs",
    "run_digest": ".jobs",
    "run_expiry_sweep": ".jobs",
    "run_quality_check": ".jobs",
    "run_snapshot": ".jobs",
    "Delivery": ".message",
    "Notification": ".message",
    "Section": ".message",
    "Notifier": ".notifiers",
    "build_notifiers": ".notifiers",
    "notify_all": ".notifiers",
    "sign": ".notifiers",
    "SchedulerHandle": ".runner",
    "run_scheduler": ".runner",
    "SchedulerStore": ".store",
    "sync_database_url": ".store",
}


__getattr__ = lazy_exports(__name__, _WHERE)


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
