"""Signed webhook ingest: generic HMAC hooks at /hooks/{name} and GitHub events at /hooks/github."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .config import WebhookSettings
    from .receiver import Answer, WebhookReceiver
    from .signing import sign_github, sign_teamlore

# Names resolve on first use (PEP 562), so importing one light module of the package, or the
# package for its settings model, does not pull in every heavy dependency (see teamlore.cli).
_WHERE = {
    "WebhookSettings": ".config",
    "Answer": ".receiver",
    "WebhookReceiver": ".receiver",
    "sign_github": ".signing",
    "sign_teamlore": ".signing",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        value = getattr(importlib.import_module(_WHERE[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["Answer", "WebhookReceiver", "WebhookSettings", "sign_github", "sign_teamlore"]
