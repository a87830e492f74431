"""teamlore's web app for people: server-rendered pages to search, curate and administer the memory."""

from __future__ import annotations

from typing import TYPE_CHECKING

from memory_core import lazy_exports

if TYPE_CHECKING:
    from .app import WebUI
    from .config import WebSettings
    from .frame import SECURITY_HEADERS, Viewer
    from .sessions import sign_link

# Names resolve on first use (memory_core._lazy), so importing one light module of the package, or
# the package for its settings model, does not pull in every heavy dependency (see teamlore.cli).
_WHERE = {
    "WebUI": ".app",
    "WebSettings": ".config",
    "SECURITY_HEADERS": ".frame",
    "Viewer": ".frame",
    "sign_link": ".sessions",
}


__getattr__ = lazy_exports(__name__, _WHERE)


__all__ = ["SECURITY_HEADERS", "Viewer", "WebSettings", "WebUI", "sign_link"]
