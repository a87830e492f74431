"""Signed webhook ingest: generic HMAC hooks at /hooks/{name} and GitHub events at /hooks/github."""

from __future__ import annotations

from typing import TYPE_CHECKING

from memory_core import lazy_exports

if TYPE_CHECKING:
    from .config import WebhookSettings
    from .receiver import Answer, WebhookReceiver
    from .signing import sign_github, sign_teamlore

# Names resolve on first use (memory_core._lazy), so importing one light module of the package, or
# the package for its settings model, does not pull in every heavy dependency (see teamlore.cli).
_WHERE = {
    "WebhookSettings": ".config",
    "Answer": ".receiver",
    "WebhookReceiver": ".receiver",
    "sign_github": ".signing",
    "sign_teamlore": ".signing",
}


__getattr__ = lazy_exports(__name__, _WHERE)


__all__ = ["Answer", "WebhookReceiver", "WebhookSettings", "sign_github", "sign_teamlore"]
