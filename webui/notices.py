"""What a page says after a change: a code and ids from the redirect's query, never free text."""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["notice_text"]

_TEXT = {
    "stored": "Stored as #{id}.",
    "edited": "Saved #{id}.",
    "forgotten": "Forgot #{id}.",
    "superseded": "#{old} is now marked as superseded by #{new}.",
    "extended": "Extended the expiry of #{id}.",
    "expiry-dropped": "#{id} no longer expires.",
    "report-saved": "Saved the report: it is part of the trend now.",
    "revoked": "Revoked API key {id}.",
    "reflection-saved": "Saved the reflection as #{id}.",
}


def notice_text(params: Mapping[str, str]) -> str | None:
    template = _TEXT.get(params.get("done", ""))
    if template is None:
        return None
    ids = {k: params.get(k, "") for k in ("id", "old", "new")}
    if not all(v.isdigit() for k, v in ids.items() if "{" + k + "}" in template):
        return None
    return template.format(**ids)
