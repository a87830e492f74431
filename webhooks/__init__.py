"""Signed webhook ingest: generic HMAC hooks at /hooks/{name} and GitHub events at /hooks/github."""

from .config import WebhookSettings
from .receiver import Answer, WebhookReceiver
from .signing import sign_github, sign_teamlore

__all__ = ["Answer", "WebhookReceiver", "WebhookSettings", "sign_github", "sign_teamlore"]
