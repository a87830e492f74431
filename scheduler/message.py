"""What the scheduler posts (a Notification of titled sections) and how each platform is shown it."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

__all__ = [
    "Delivery",
    "Level",
    "Link",
    "Notification",
    "Section",
    "discord_payload",
    "plain_text",
    "slack_payload",
    "webhook_payload",
]

Level = Literal["info", "warning", "critical"]

_SLACK_SECTION_MAX = 3000
_SLACK_HEADER_MAX = 150
_SLACK_TEXT_MAX = 3500
_DISCORD_TITLE_MAX = 256
_DISCORD_FIELD_NAME_MAX = 256
_DISCORD_FIELD_MAX = 1024
_DISCORD_CONTENT_MAX = 2000
_DISCORD_COLOURS = {"info": 0x2F81F7, "warning": 0xD29922, "critical": 0xDA3633}
_SLACK_ICONS = {"info": ":information_source:", "warning": ":warning:", "critical": ":rotating_light:"}


@dataclass(frozen=True)
class Section:
    """A heading and its lines (plain text; each platform adds its own markup)."""

    heading: str
    lines: tuple[str, ...]


@dataclass(frozen=True)
class Link:
    """A page of the web app the notification points to (set when TEAMLORE_HTTP__PUBLIC_URL is)."""

    label: str
    url: str


@dataclass(frozen=True)
class Notification:
    """One message for every notifier: an event name, a title, sections, and structured data.

    `data` is JSON-ready and goes to the generic webhook as is; `id` stays the same across retries so a
    receiver can drop a repeat.
    """

    event: str
    tenant: str | None
    title: str
    level: Level
    sections: tuple[Section, ...]
    data: Mapping[str, Any] = field(default_factory=dict)
    links: tuple[Link, ...] = ()
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    at: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass(frozen=True)
class Delivery:
    """The outcome of sending one notification to one notifier."""

    notifier: str
    event: str
    tenant: str | None
    ok: bool
    attempts: int
    status: int | None = None
    error: str | None = None

    def row(self) -> dict[str, Any]:
        return {
            "tenant": self.tenant,
            "event": self.event,
            "notifier": self.notifier,
            "ok": self.ok,
            "attempts": self.attempts,
            "status": self.status,
            "error": (self.error or None) and self.error[:2000],
        }


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def plain_text(note: Notification) -> str:
    """The notification as plain text: the log, the webhook's `text`, and every platform's fallback."""
    parts = [note.title]
    for section in note.sections:
        parts.append("")
        parts.append(f"{section.heading}:")
        parts.extend(f"- {line}" for line in section.lines)
    if note.links:
        parts.append("")
        parts.extend(f"{link.label}: {link.url}" for link in note.links)
    return "\n".join(parts)


# --- Slack ------------------------------------------------------------------------------------------------


def _slack_escape(text: str) -> str:
    # Only &, < and > are control characters in Slack text; escaping < and > also stops <!channel>.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_payload(note: Notification) -> dict[str, Any]:
    """Block Kit message (header + one mrkdwn section per Section) with a plain-text fallback."""
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": _cut(note.title, _SLACK_HEADER_MAX)}}
    ]
    for section in note.sections:
        body = "\n".join(f"• {_slack_escape(line)}" for line in section.lines)
        text = (
            f"*{_slack_escape(section.heading)}*\n{body}" if body else f"*{_slack_escape(section.heading)}*"
        )
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": _cut(text, _SLACK_SECTION_MAX)}})
    if note.links:
        # Our own URLs (from the settings), so they go into <url|label> as they are; labels are escaped.
        text = " · ".join(f"<{link.url}|{_slack_escape(link.label)}>" for link in note.links)
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": text}]})
    fallback = f"{_SLACK_ICONS[note.level]} {_slack_escape(plain_text(note))}"
    return {"text": _cut(fallback, _SLACK_TEXT_MAX), "blocks": blocks[:50], "unfurl_links": False}


# --- Discord ----------------------------------------------------------------------------------------------

_DISCORD_MARKUP = re.compile(r"([\\*_~|`>])")


def _discord_escape(text: str) -> str:
    return _DISCORD_MARKUP.sub(r"\\\1", text)


def discord_payload(note: Notification) -> dict[str, Any]:
    """Webhook execution body: the title as content, an embed with one field per section, no mentions."""
    fields = []
    for section in note.sections[:25]:
        value = "\n".join(f"• {_discord_escape(line)}" for line in section.lines) or "—"
        fields.append(
            {
                "name": _cut(section.heading, _DISCORD_FIELD_NAME_MAX),
                "value": _cut(value, _DISCORD_FIELD_MAX),
                "inline": False,
            }
        )
    if note.links and len(fields) < 25:
        value = "\n".join(f"[{_discord_escape(link.label)}]({link.url})" for link in note.links)
        fields.append({"name": "Open", "value": _cut(value, _DISCORD_FIELD_MAX), "inline": False})
    embed: dict[str, Any] = {
        "title": _cut(note.title, _DISCORD_TITLE_MAX),
        "color": _DISCORD_COLOURS[note.level],
        "fields": fields,
        "timestamp": note.at.isoformat(),
    }
    if note.links:
        embed["url"] = note.links[0].url  # the title links to the main page
    return {
        "username": "teamlore",
        "content": _cut(_discord_escape(note.title), _DISCORD_CONTENT_MAX),
        "embeds": [embed],
        # Memory text must never ping @everyone or a role.
        "allowed_mentions": {"parse": []},
    }


# --- generic webhook --------------------------------------------------------------------------------------


def webhook_payload(note: Notification) -> dict[str, Any]:
    """The generic webhook's JSON body (documented in docs/scheduler.md)."""
    return {
        "id": note.id,
        "event": note.event,
        "tenant": note.tenant,
        "level": note.level,
        "title": note.title,
        "text": plain_text(note),
        "sections": [{"heading": s.heading, "lines": list(s.lines)} for s in note.sections],
        "data": dict(note.data),
        "links": [{"label": link.label, "url": link.url} for link in note.links],
        "sent_at": note.at.isoformat(),
    }
