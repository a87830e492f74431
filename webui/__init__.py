"""teamlore's web app for people: server-rendered pages to search, curate and administer the memory."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .app import WebUI
    from .config import WebSettings
    from .frame import SECURITY_HEADERS, Viewer
    from .sessions import sign_link

# Names resolve on first use (PEP 562), so importing one light module of the package, or the
# package for its settings model, does not pull in every heavy dependency (see teamlore.cli).
_WHERE = {
    "WebUI": ".app",
    "WebSettings": ".config",
    "SECURITY_HEADERS": ".frame",
    "Viewer": ".frame",
    "sign_link": ".sessions",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        value = getattr(importlib.import_module(_WHERE[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["SECURITY_HEADERS", "Viewer", "WebSettings", "WebUI", "sign_link"]
