"""Block Kit messages for chat replies: ids, authors, dates, tags and links back; user text escaped and cut.

Every string that came from a person (memory texts, questions, names, titles) goes through `escape`,
so stored text cannot ping `@channel` or forge a `<url|label>` link; only the markup written here
(`*bold*`, `<!date^...>`, links to http(s) sources) is live. Slack's limits are kept: at most 50 blocks,
3000 characters per section, 10 context elements, 2000 characters in a button value.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from memory_core import Importance, InvalidInput, Memory, Reflection

from ..grammar import COMMAND_NAMES, USAGE, CommandName
from ..render import one_line, source_link, stored_text, truncate
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
from .config import SlackCommands
from .text import escape, escape_link

__all__ = [
    "MAX_BLOCKS",
    "SHARE_ACTION",
    "SharedAnswer",
    "error_message",
    "message_for",
    "shared_message",
]

Block = dict[str, Any]
Message = dict[str, Any]

MAX_BLOCKS = 50
SECTION_CHARS = 3000
BUTTON_VALUE_CHARS = 2000
SHARE_ACTION = "teamlore_share"


# --- small pieces ----------------------------------------------------------------------------------


def _cap(text: str, limit: int = SECTION_CHARS) -> str:
    """Fit mrkdwn into `limit` characters without cutting an entity or a `<...>` in half."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    newline = cut.rfind("\n")
    if newline >= limit // 2:
        cut = cut[:newline]
    else:
        amp, lt = cut.rfind("&"), cut.rfind("<")
        if amp > cut.rfind(";"):
            cut = cut[:amp]
        if lt > cut.rfind(">"):
            cut = cut[:lt]
    return cut.rstrip() + "…"


def _section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": _cap(text)}}


def _context(*texts: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": _cap(t)} for t in texts[:10]]}


def _date(moment: datetime) -> str:
    """A date every reader sees in their own time zone; the ISO date is the fallback."""
    return f"<!date^{int(moment.timestamp())}^{{date_short}}|{moment:%Y-%m-%d}>"


def _user_text(text: str, limit: int) -> str:
    """A memory's text cut cleanly at a word (before escaping, so no entity is split), then escaped."""
    shown = escape(truncate(text.strip(), limit))
    while len(shown) > SECTION_CHARS and limit > 80:  # escaping can lengthen text; `&` x5 at worst
        limit = limit * 2 // 3
        shown = escape(truncate(text.strip(), limit))
    return shown


_SLACK_MESSAGE = re.compile(r"\.slack\.com/archives/[^/]+/p\d+")


def _label(url: str) -> str:
    if _SLACK_MESSAGE.search(url):
        return "Slack message"
    return "Slack channel" if ".slack.com/archives/" in url else "source"


def _link(memory: Memory) -> str | None:
    where = source_link(memory)
    if where is None:
        return None
    url = escape_link(where)
    if url is None:
        return escape(truncate(where, 200))
    return f"<{url}|{_label(where)}>"


def meta_line(memory: Memory) -> str:
    """`*#42* · alice · Jan 5 · decision · #infra #vpn · !high · Slack message` (with the link live)."""
    parts = [f"*{memory.ref}*", escape(memory.author or "unknown"), _date(memory.created_at)]
    if memory.kind not in ("note", "email"):
        parts.append(escape(memory.kind))
    if memory.tags:
        parts.append(" ".join("`#" + escape(tag) + "`" for tag in memory.tags))
    if memory.importance is not Importance.NORMAL:
        parts.append("!" + memory.importance.value)
    if memory.expires_at is not None:
        parts.append("until " + _date(memory.expires_at))
    if memory.superseded_by is not None:
        parts.append(f"superseded by #{memory.superseded_by}")
    link = _link(memory)
    if link:
        parts.append(link)
    return " · ".join(parts)


def _memory_blocks(memory: Memory, text_limit: int) -> list[Block]:
    return [_section(_user_text(memory.text, text_limit)), _context(meta_line(memory))]


def _memory_list(memories: Sequence[Memory], text_limit: int, room: int) -> list[Block]:
    """Two blocks per memory while they fit in `room`; the rest listed by id in one last block."""
    if 2 * len(memories) <= room:
        return [block for memory in memories for block in _memory_blocks(memory, text_limit)]
    shown = max(0, (room - 1) // 2)
    blocks = [block for memory in memories[:shown] for block in _memory_blocks(memory, text_limit)]
    rest = memories[shown:]
    lines = [f"*{m.ref}* {escape(truncate(one_line(m.text), 90))}" for m in rest]
    blocks.append(_section("More:\n" + "\n".join(lines)))
    return blocks


def _count(n: int) -> str:
    return f"{n} {'memory' if n == 1 else 'memories'}"


def _message(text: str, blocks: list[Block]) -> Message:
    return {"text": _cap(text), "blocks": blocks[:MAX_BLOCKS]}


# --- the share button ------------------------------------------------------------------------------


class SharedAnswer:
    """What the Share button carries: the kind of answer, its heading and the memory ids (not their text).

    On a click the memories are read again in the clicker's tenant, so a memory forgotten in the
    meantime is not shared, and a value can never reveal another tenant's memory.
    """

    def __init__(self, kind: str, heading: str, ids: Sequence[int]) -> None:
        self.kind = kind if kind in ("query", "recent") else "query"
        self.heading = heading
        self.ids = tuple(ids)

    def encode(self) -> str:
        heading = self.heading
        while True:
            value = json.dumps({"k": self.kind, "q": heading, "ids": self.ids}, separators=(",", ":"))
            if len(value) <= BUTTON_VALUE_CHARS or not heading:
                return value
            heading = truncate(heading, len(heading) // 2)

    @classmethod
    def decode(cls, value: str) -> SharedAnswer:
        try:
            data = json.loads(value)
            ids = [int(i) for i in data["ids"]]
            return cls(str(data.get("k", "query")), str(data.get("q", "")), ids)
        except (ValueError, TypeError, KeyError) as error:
            raise InvalidInput("this button is out of date; ask again") from error


def _share_button(answer: SharedAnswer) -> Block:
    return {
        "type": "actions",
        "block_id": SHARE_ACTION,
        "elements": [
            {
                "type": "button",
                "action_id": SHARE_ACTION,
                "text": {"type": "plain_text", "text": "Share to channel"},
                "value": answer.encode(),
            }
        ],
    }


# --- replies ---------------------------------------------------------------------------------------


def _stored(reply: StoredReply, text_limit: int) -> Message:
    memory = reply.memory
    if not reply.result.created:
        text = stored_text(reply)
        return _message(text, [_section(f":information_source: {text}"), *_memory_blocks(memory, text_limit)])
    text = escape(stored_text(reply))
    return _message(text, [_section(":white_check_mark: " + text), _context(meta_line(memory))])


def _answer(
    heading: str, fallback: str, memories: Sequence[Memory], share: SharedAnswer | None, limit: int
) -> Message:
    room = MAX_BLOCKS - 1 - (1 if share else 0)
    blocks = [_section(heading), *_memory_list(memories, limit, room)]
    if share is not None:
        blocks.append(_share_button(share))
    return _message(fallback, blocks)


def _query(reply: QueryReply, text_limit: int, share: bool) -> Message:
    question = escape(truncate(one_line(reply.question), 300))
    if not reply.hits:
        text = f"Nothing found for “{question}”. Try other words, or fewer filters."
        return _message(text, [_section(text)])
    memories = [hit.memory for hit in reply.hits]
    heading = f"*{_count(len(memories))}* for “{question}”:"
    button = SharedAnswer("query", reply.question, [m.id for m in memories]) if share else None
    return _answer(heading, f"{_count(len(memories))} for “{question}”", memories, button, text_limit)


def _recent(reply: RecentReply, text_limit: int, share: bool) -> Message:
    described = escape(reply.described)
    if not reply.memories:
        text = f"No memories {described}."
        return _message(text, [_section(text)])
    heading = f"*Newest memories* {described}:"
    button = SharedAnswer("recent", reply.described, [m.id for m in reply.memories]) if share else None
    return _answer(heading, f"Newest memories {described}", reply.memories, button, text_limit)


def _ids(ids: Sequence[int]) -> str:
    return ", ".join(f"#{i}" for i in ids)


def _reflection_blocks(reflection: Reflection, text_limit: int) -> list[Block]:
    blocks = [_section(escape(reflection.summary) or "_Nothing to summarise._")]
    if reflection.notice:
        blocks.append(_context(":information_source: " + escape(reflection.notice)))
    if reflection.points:
        lines = [f"• {escape(truncate(p.text, text_limit))} [{_ids(p.sources)}]" for p in reflection.points]
        blocks.append(_section("*Key points*\n" + "\n".join(lines)))
    if reflection.timeline:
        lines = [
            f"• {_date(e.when)} — {escape(truncate(one_line(e.text), 140))} (#{e.id})"
            for e in reflection.timeline
        ]
        blocks.append(_section("*Timeline*\n" + "\n".join(lines)))
    findings = [f"Duplicates: {' = '.join(f'#{i}' for i in group)}" for group in reflection.duplicates]
    findings += [
        f"Possible contradiction, {' vs '.join(f'#{i}' for i in c.ids)}: {escape(c.reason)}"
        for c in reflection.conflicts
    ]
    if findings:
        blocks.append(_section("*Worth a look*\n" + "\n".join("• " + f for f in findings)))
    return blocks


def _reflection(reply: ReflectionReply, text_limit: int) -> Message:
    reflection = reply.reflection
    about = f"on “{escape(truncate(reflection.topic, 200))}”" if reflection.topic else "of the period"
    saved = f" — saved as *#{reflection.id}*" if reflection.id is not None else ""
    heading = f":thought_balloon: *Reflection {about}* from {_count(len(reflection.sources))}{saved}"
    blocks = [_section(heading), *_reflection_blocks(reflection, text_limit)]
    if reply.sources:
        blocks.append(_section("*Sources*\n" + "\n".join(meta_line(m) for m in reply.sources)))
    return _message(f"Reflection {about}{saved.replace('*', '')}", blocks)


def _invocation(name: CommandName, commands: SlackCommands) -> str:
    direct = {"store": commands.store, "query": commands.query, "reflect": commands.reflect}
    direct["forget"] = commands.forget
    if name != "help" and direct.get(name):
        return direct[name]
    return f"{commands.lore or '/lore'} {name}"


def _after(text: str, name: str) -> str:
    """What follows the command word in a USAGE line (`store <text> ...` -> ` <text> ...`)."""
    return text.removeprefix("lore ").removeprefix(name)


def help_message(topic: CommandName | None, commands: SlackCommands) -> Message:
    """The help, with this workspace's command names (`/tl-store` where `/store` was taken)."""
    names = (topic,) if topic else COMMAND_NAMES
    lines = [] if topic else ["*teamlore* remembers what your team knows."]
    for name in names:
        synopsis, what, example = USAGE[name]
        invocation = _invocation(name, commands)
        usage, shown = invocation + _after(synopsis, name), invocation + _after(example, name)
        lines.append(f"`{escape(usage)}`\n{escape(what)} e.g. `{escape(shown)}`")
    if not topic:
        lines.append("Or use *Save to teamlore* in a message's menu, or ask `@teamlore &lt;question&gt;`.")
    return _message("teamlore help", [_section("\n\n".join(lines))])


def error_message(reply: ErrorReply) -> Message:
    text = escape(reply.message)
    return _message(text, [_section(":warning: " + text)])


def message_for(
    reply: Reply, *, commands: SlackCommands, text_limit: int = 600, share: bool = False
) -> Message:
    """A Slack message (`text` fallback + `blocks`) for a reply; `share` adds the Share button to answers."""
    if isinstance(reply, StoredReply):
        return _stored(reply, text_limit)
    if isinstance(reply, QueryReply):
        return _query(reply, text_limit, share)
    if isinstance(reply, RecentReply):
        return _recent(reply, text_limit, share)
    if isinstance(reply, ReflectionReply):
        return _reflection(reply, text_limit)
    if isinstance(reply, ForgottenReply):
        preview = f" (“{escape(reply.preview)}”)" if reply.preview else ""
        text = f"Forgot #{reply.memory_id}{preview}."
        return _message(text, [_section(":wastebasket: " + text)])
    if isinstance(reply, HelpReply):
        return help_message(reply.topic, commands)
    if isinstance(reply, ErrorReply):
        return error_message(reply)
    raise TypeError(f"cannot render {type(reply).__name__}")


def shared_message(
    answer: SharedAnswer, memories: Sequence[Memory], *, sharer: str, text_limit: int = 600
) -> Message:
    """The answer as posted to the channel by the Share button (memories re-read, no button)."""
    heading = escape(truncate(one_line(answer.heading), 300))
    what = f"newest memories {heading}" if answer.kind == "recent" else f"“{heading}”"
    if not memories:
        text = f"{escape(sharer)} shared an answer about {what}, but those memories are gone."
        return _message(text, [_section(text)])
    intro = f"*{escape(sharer)}* shared {_count(len(memories))} for {what}:"
    return _answer(
        intro, f"{escape(sharer)} shared {_count(len(memories))} for {what}", memories, None, text_limit
    )
