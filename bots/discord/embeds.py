"""Replies as Discord embeds that always fit Discord's limits (sizes per field and 6000 in all)."""

from __future__ import annotations

import discord

from memory_core import Memory

from ..render import (
    headline,
    help_text,
    neutralise_mentions,
    one_line,
    render,
    source_link,
    stored_text,
    truncate,
)
from ..replies import (
    ErrorReply,
    ForgottenReply,
    HelpReply,
    QueryReply,
    RecentReply,
    ReflectionReply,
    Reply,
    StoredReply,
)

__all__ = ["LIMITS", "fit_embed", "reply_embed", "reply_text"]

# https://discord.com/developers/docs/resources/message#embed-object-embed-limits
LIMITS = {
    "title": 256,
    "description": 4096,
    "fields": 25,
    "field_name": 256,
    "field_value": 1024,
    "footer": 2048,
    "author": 256,
    "total": 6000,
    "content": 2000,
}
# Leave room for what Discord counts differently from Python (it is not documented precisely).
_TOTAL_BUDGET = LIMITS["total"] - 200

OK = discord.Colour(0x2ECC71)
INFO = discord.Colour(0x5865F2)
ERROR = discord.Colour(0xE74C3C)


def _clean(text: str, limit: int) -> str:
    return truncate(neutralise_mentions(text), limit)


def _link(memory: Memory) -> str | None:
    link = source_link(memory)
    if link and link.startswith("https://discord.com/channels/"):
        return f"[jump to message]({link})"
    if link and link.startswith(("https://", "http://")):
        return f"[source]({link})"
    return link


def _memory_field(embed: discord.Embed, memory: Memory, value_limit: int) -> None:
    link = _link(memory)
    tail = f"\n↳ {neutralise_mentions(link)}" if link else ""
    room = max(40, min(LIMITS["field_value"], value_limit) - len(tail))
    value = _clean(one_line(memory.text), room) + tail
    embed.add_field(
        name=_clean(headline(memory), LIMITS["field_name"]),
        value=value[: LIMITS["field_value"]],
        inline=False,
    )


def _memory_list(title: str, memories: list[Memory], colour: discord.Colour) -> discord.Embed:
    embed = discord.Embed(title=_clean(title, LIMITS["title"]), colour=colour)
    shown = memories[: LIMITS["fields"]]
    per_field = (_TOTAL_BUDGET - len(embed.title or "") - 100) // max(1, len(shown)) - LIMITS[
        "field_name"
    ] // 4
    for memory in shown:
        _memory_field(embed, memory, per_field)
    return fit_embed(embed, total_items=len(memories))


def _reflection_embed(reply: ReflectionReply) -> discord.Embed:
    reflection = reply.reflection
    about = f"on “{reflection.topic}”" if reflection.topic else "of the period"
    saved = f" · #{reflection.id}" if reflection.id is not None else ""
    embed = discord.Embed(
        title=_clean(f"Reflection {about}{saved}", LIMITS["title"]),
        description=_clean(reflection.summary, 2000),
        colour=INFO,
    )
    sections = [
        (
            "Key points",
            [f"• {one_line(p.text)} [{', '.join(f'#{i}' for i in p.sources)}]" for p in reflection.points],
        ),
        ("Timeline", [f"• {e.when:%Y-%m-%d} {one_line(e.text)} (#{e.id})" for e in reflection.timeline]),
        ("Duplicates", [" = ".join(f"#{i}" for i in group) for group in reflection.duplicates]),
        (
            "Possible contradictions",
            [f"• {' vs '.join(f'#{i}' for i in c.ids)}: {c.reason}" for c in reflection.conflicts],
        ),
        ("Sources", [headline(m) + (f" · {_link(m)}" if _link(m) else "") for m in reply.sources]),
    ]
    for name, lines in sections:
        if lines:
            embed.add_field(name=name, value=_lines(lines, 900), inline=False)
    footer = f"{len(reflection.sources)} memories · {reflection.synthesis}"
    if reflection.notice:
        footer += f" · {reflection.notice}"
    embed.set_footer(text=_clean(footer, 300))
    return fit_embed(embed)


def _lines(lines: list[str], limit: int) -> str:
    """As many whole lines as fit in `limit` (each line itself cut to 200), then a count of the rest."""
    out: list[str] = []
    used = 0
    for index, line in enumerate(lines):
        piece = _clean(line, 200)
        rest = len(lines) - index
        if used + len(piece) + 1 > limit - 20:
            out.append(f"… and {rest} more")
            break
        out.append(piece)
        used += len(piece) + 1
    return "\n".join(out)


def reply_embed(reply: Reply, *, prefix: str = "/") -> discord.Embed:
    """The embed for any reply; every piece of echoed text has its mentions neutralised."""
    if isinstance(reply, StoredReply):
        title, _, notes = stored_text(reply).partition("\n")
        embed = discord.Embed(
            title=_clean(title, LIMITS["title"]), colour=OK if reply.result.created else INFO
        )
        embed.description = _clean(reply.memory.text, 1500) + (f"\n\n{_clean(notes, 500)}" if notes else "")
        return fit_embed(embed)
    if isinstance(reply, QueryReply):
        if not reply.hits:
            return discord.Embed(description=_clean(render(reply), 1000), colour=INFO)
        noun = "memory" if len(reply.hits) == 1 else "memories"
        title = f"{len(reply.hits)} {noun} for “{one_line(reply.question)}”"
        return _memory_list(title, [hit.memory for hit in reply.hits], INFO)
    if isinstance(reply, RecentReply):
        if not reply.memories:
            return discord.Embed(description=_clean(render(reply), 1000), colour=INFO)
        return _memory_list(f"Newest memories {reply.described}", list(reply.memories), INFO)
    if isinstance(reply, ReflectionReply):
        return _reflection_embed(reply)
    if isinstance(reply, ForgottenReply | HelpReply | ErrorReply):
        text = help_text(reply.topic, prefix=prefix) if isinstance(reply, HelpReply) else render(reply)
        colour = (
            ERROR if isinstance(reply, ErrorReply) else (OK if isinstance(reply, ForgottenReply) else INFO)
        )
        return discord.Embed(description=_clean(text, LIMITS["description"]), colour=colour)
    raise TypeError(f"cannot render {type(reply).__name__}")


def reply_text(reply: Reply, *, prefix: str = "/") -> str:
    """Plain message content (for channels where the bot may not embed), within the 2000-character limit."""
    return truncate(render(reply, prefix=prefix, text_limit=200), LIMITS["content"])


def fit_embed(embed: discord.Embed, *, total_items: int | None = None) -> discord.Embed:
    """Cut every part of `embed` to its limit, then drop trailing fields until the whole fits.

    The footer then says how many items were left out (`total_items` counts the items the fields
    stand for), so a long answer is cut visibly, never silently.
    """
    if embed.title:
        embed.title = truncate(embed.title, LIMITS["title"])
    if embed.description:
        embed.description = truncate(embed.description, LIMITS["description"])
    fields = [(f.name or "", f.value or "", bool(f.inline)) for f in embed.fields][: LIMITS["fields"]]
    embed.clear_fields()
    for name, value, inline in fields:
        embed.add_field(
            name=truncate(name, LIMITS["field_name"]),
            value=truncate(value, LIMITS["field_value"]),
            inline=inline,
        )
    footer = embed.footer.text or ""
    shown = len(embed.fields)
    while len(embed) > _TOTAL_BUDGET and embed.fields:
        embed.remove_field(len(embed.fields) - 1)
        shown -= 1
    if total_items is not None and total_items > shown:
        more = f"{total_items - shown} more not shown: narrow the question or lower limit:"
        footer = f"{footer} · {more}" if footer else more
    if footer:
        embed.set_footer(text=truncate(footer, LIMITS["footer"]))
    if len(embed) > _TOTAL_BUDGET and embed.description:
        embed.description = truncate(
            embed.description, max(0, len(embed.description) - (len(embed) - _TOTAL_BUDGET))
        )
    return embed
