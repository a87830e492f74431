"""Render chat replies as plain text (`teamlore shell`, Discord fallbacks) and the pieces embeds reuse."""

from __future__ import annotations

import re
from datetime import datetime

from memory_core import Importance, Memory, PossibleConflict, QueryFilters, Source

from .grammar import COMMAND_NAMES, USAGE, CommandName
from .replies import (
    ErrorReply,
    ForgottenReply,
    HelpReply,
    QueryReply,
    RecentReply,
    ReflectionReply,
    Reply,
    StoredReply,
)

__all__ = [
    "ELLIPSIS",
    "contradiction_text",
    "describe_filters",
    "headline",
    "help_text",
    "neutralise_mentions",
    "one_line",
    "render",
    "source_link",
    "stored_text",
    "truncate",
]

ELLIPSIS = "…"
ZWSP = "\u200b"

# @everyone / @here (Discord), @channel (Slack), and the <@123> <@!123> <@&123> <!here> <!subteam^..>
# forms both platforms turn into pings. A zero-width space after the @ or < keeps the text readable
# while no client parses it as a mention any more.
_MASS_MENTION = re.compile(r"@(everyone|here|channel)\b", re.IGNORECASE)
_ANGLE_MENTION = re.compile(r"<(?=[@!])")


def neutralise_mentions(text: str) -> str:
    """Text that reads the same but pings nobody (defence in depth: Discord also gets allowed_mentions)."""
    return _ANGLE_MENTION.sub("<" + ZWSP, _MASS_MENTION.sub("@" + ZWSP + r"\1", text))


def truncate(text: str, limit: int, *, ellipsis: str = ELLIPSIS) -> str:
    """`text` if it fits in `limit` characters, else cut at a word boundary and ended with an ellipsis.

    A single word longer than half the limit is cut inside the word rather than leaving almost nothing.
    """
    if limit <= 0:
        return ""
    if len(text) <= limit:
        return text
    if limit <= len(ellipsis):
        return ellipsis[:limit]
    room = limit - len(ellipsis)
    cut = text[:room]
    if not text[room].isspace():
        boundary = max(cut.rfind(" "), cut.rfind("\n"), cut.rfind("\t"))
        if boundary >= room // 2:
            cut = cut[:boundary]
    return cut.rstrip(" \t\n,;:-–—") + ellipsis


def one_line(text: str) -> str:
    """Whitespace (line breaks included) collapsed to single spaces, for lists."""
    return " ".join(text.split())


def _day(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d")


def headline(memory: Memory) -> str:
    """`#42 · alice · 2026-01-05 · #infra #vpn · !high` — the id, who stored it, when, tags, importance."""
    parts = [memory.ref, memory.author or "unknown", _day(memory.created_at)]
    if memory.kind not in ("note", "email"):
        parts.append(memory.kind)
    if memory.tags:
        parts.append(" ".join("#" + tag for tag in memory.tags))
    if memory.importance is not Importance.NORMAL:
        parts.append("!" + memory.importance.value)
    if memory.superseded_by is not None:
        parts.append(f"superseded by #{memory.superseded_by}")
    return " · ".join(parts)


def source_link(memory: Memory) -> str | None:
    """The way back to where the memory came from: a permalink, or a mail's subject and sender."""
    ref = memory.source_ref
    if ref and ref.startswith(("https://", "http://")):
        return ref
    if memory.source is Source.EMAIL:
        subject = f"“{memory.title}”" if memory.title else "(no subject)"
        return f"mail {subject} from {memory.author or 'unknown sender'}"
    if ref:
        return f"{memory.source.value}: {ref}"
    return None


def describe_filters(filters: QueryFilters) -> str:
    """`tagged #infra, from alice, since 2026-01-01` (empty when there is no filter)."""
    parts: list[str] = []
    if filters.tags:
        parts.append("tagged " + " ".join("#" + tag for tag in filters.tags))
    if filters.author:
        parts.append(f"from {filters.author}")
    if filters.since:
        parts.append(f"since {_day(filters.since)}")
    if filters.until:
        parts.append(f"until {_day(filters.until)}")
    return ", ".join(parts)


def _memory_block(memory: Memory, text_limit: int) -> str:
    lines = [headline(memory), "  " + truncate(one_line(memory.text), text_limit)]
    link = source_link(memory)
    if link:
        lines.append("  ↳ " + link)
    return "\n".join(lines)


def stored_text(reply: StoredReply) -> str:
    """One sentence (plus notes) confirming a store."""
    result = reply.result
    memory = result.memory
    if not result.created:
        replaces = f" It replaces #{memory.supersedes}." if memory.supersedes is not None else ""
        return f"Already remembered as {memory.ref}.{replaces}"
    details = [" ".join("#" + tag for tag in memory.tags)] if memory.tags else []
    if memory.importance is not Importance.NORMAL:
        details.append("!" + memory.importance.value)
    if memory.kind != "note":
        details.append(memory.kind)
    if memory.expires_at is not None:
        details.append(f"until {_day(memory.expires_at)}")
    text = f"Remembered as {memory.ref}" + (f" ({', '.join(details)})." if details else ".")
    if result.near_duplicates:
        text += "\nSimilar: " + ", ".join(f"#{i}" for i in result.near_duplicates) + "."
    for maybe in result.contradicts:
        text += f"\n⚠ {contradiction_text(maybe)}"
    if result.redacted:
        text += "\nRedacted before storing: " + ", ".join(result.redacted) + "."
    return text


def contradiction_text(maybe: PossibleConflict) -> str:
    """`This may contradict #12 by alice on 3 Jan 2026 (…) — store it again with supersedes:#12 …`."""
    warning = maybe.warning[0].upper() + maybe.warning[1:]
    return (
        f"{warning} ({maybe.reason}) — send the same /store again with `supersedes:#{maybe.id}` "
        f"to replace #{maybe.id}."
    )


def help_text(topic: CommandName | None = None, *, prefix: str = "/") -> str:
    """The help of every command (or of one), with the platform's prefix (`/`, `!`, or `` for the shell)."""
    names = (topic,) if topic else COMMAND_NAMES
    lines = [] if topic else ["teamlore remembers what your team knows. Commands:"]
    for name in names:
        synopsis, what, example = USAGE[name]
        lines.append(f"{prefix}{synopsis}\n    {what}  e.g. {prefix}{example}")
    return "\n".join(lines)


def _reflection_text(reply: ReflectionReply, text_limit: int) -> str:
    reflection = reply.reflection
    about = f"on “{reflection.topic}”" if reflection.topic else "of the period"
    saved = f" — saved as #{reflection.id}" if reflection.id is not None else ""
    count = len(reflection.sources)
    memories = "memory" if count == 1 else "memories"
    lines = [f"Reflection {about} from {count} {memories}{saved}", "", reflection.summary]
    if reflection.notice:
        lines += ["", f"Note: {reflection.notice}"]
    if reflection.points:
        lines += ["", "Key points:"]
        lines += [f"• {truncate(p.text, text_limit)} {_ids(p.sources)}" for p in reflection.points]
    if reflection.timeline:
        lines += ["", "Timeline:"]
        lines += [
            f"• {_day(e.when)} — {truncate(one_line(e.text), 120)} (#{e.id})" for e in reflection.timeline
        ]
    if reflection.duplicates:
        lines += [
            "",
            "Duplicates: " + "; ".join(" = ".join(f"#{i}" for i in g) for g in reflection.duplicates),
        ]
    if reflection.conflicts:
        lines += ["", "Possible contradictions:"]
        lines += [
            f"• {' vs '.join(f'#{i}' for i in c.ids)}: {c.reason}"
            + (f" — current position: #{c.current}" if c.current is not None else "")
            for c in reflection.conflicts
        ]
    if reply.sources:
        lines += ["", "Sources:"]
        lines += [_source_line(memory) for memory in reply.sources]
    return "\n".join(lines)


def _source_line(memory: Memory) -> str:
    link = source_link(memory)
    return headline(memory) + (f" · {link}" if link else "")


def _ids(ids: tuple[int, ...]) -> str:
    return "[" + ", ".join(f"#{i}" for i in ids) + "]"


def render(reply: Reply, *, prefix: str = "/", text_limit: int = 300) -> str:
    """Plain text for any reply; mentions in it are neutralised, memory texts cut to `text_limit`."""
    return neutralise_mentions(_render(reply, prefix, text_limit))


def _render(reply: Reply, prefix: str, text_limit: int) -> str:
    if isinstance(reply, StoredReply):
        return stored_text(reply)
    if isinstance(reply, QueryReply):
        if not reply.hits:
            return f"Nothing found for “{reply.question}”. Try other words, or fewer filters."
        count = f"{len(reply.hits)} {'memory' if len(reply.hits) == 1 else 'memories'}"
        blocks = [_memory_block(hit.memory, text_limit) for hit in reply.hits]
        return f"{count} for “{reply.question}”:\n\n" + "\n\n".join(blocks)
    if isinstance(reply, RecentReply):
        if not reply.memories:
            return f"No memories {reply.described}."
        blocks = [_memory_block(memory, text_limit) for memory in reply.memories]
        return f"Newest memories {reply.described}:\n\n" + "\n\n".join(blocks)
    if isinstance(reply, ReflectionReply):
        return _reflection_text(reply, text_limit)
    if isinstance(reply, ForgottenReply):
        preview = f" (“{reply.preview}”)" if reply.preview else ""
        return f"Forgot #{reply.memory_id}{preview}."
    if isinstance(reply, HelpReply):
        return help_text(reply.topic, prefix=prefix)
    if isinstance(reply, ErrorReply):
        return reply.message
    raise TypeError(f"cannot render {type(reply).__name__}")
