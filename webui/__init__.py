"""teamlore's web app for people: server-rendered pages to search, curate and administer the memory."""

from .app import WebUI
from .config import WebSettings
from .frame import SECURITY_HEADERS, Viewer
from .sessions import sign_link

__all__ = ["SECURITY_HEADERS", "Viewer", "WebSettings", "WebUI", "sign_link"]
