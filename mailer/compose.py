"""ParsedMail -> MemoryDraft: the text a mail is remembered by, and its author, title, tags and time.

The memory text is the subject line, the forwarder's note, the original body, the list of attachments
and the indexed text of text attachments, in that order, cut to `max_text_chars`. The subject leads
because the embedding sees only the text. The same mail always gives the same text, so the core's
exact-duplicate check makes a re-delivered mail come back as the memory already stored. Mail carries
third-party bytes (a form feed in an attachment, a NUL from a mis-declared charset), so control
characters are dropped here rather than the whole mail refused by the core's character rule.
"""

from __future__ import annotations

from memory_core import InvalidInput, MemoryDraft, Source, scrub_text

from .labels import merge_tags, plus_tags
from .parse import ParsedMail

__all__ = ["memory_draft", "memory_text"]

_TRUNCATED = "\n[... truncated]"


def memory_text(mail: ParsedMail, *, max_chars: int) -> str:
    parts: list[str] = []
    if mail.title and not mail.body.startswith(mail.title):
        parts.append(mail.title)
    parts += [mail.note, mail.body]
    if mail.attachments:
        parts.append("Attachments: " + ", ".join(item.filename for item in mail.attachments))
        parts += [f"--- {item.filename} ---\n{item.text}" for item in mail.attachments if item.text]
    text = "\n\n".join(part for part in parts if part.strip())
    if len(text) > max_chars:
        text = text[: max_chars - len(_TRUNCATED)].rstrip() + _TRUNCATED
    return text


def memory_draft(mail: ParsedMail, *, recipients: list[str], max_chars: int, max_tags: int) -> MemoryDraft:
    """The draft for one tenant; `recipients` are that tenant's envelope recipients (plus-address tags).

    Raises InvalidInput when the mail names more than one memory it supersedes (a memory replaces one).
    """
    if len(mail.supersedes) > 1:
        named = " and ".join(f"supersedes:#{memory_id}" for memory_id in mail.supersedes)
        raise InvalidInput(f"a mail replaces one memory, this one says {named}: send one mail for each")
    tags = merge_tags([*(plus_tags(address) for address in recipients), mail.tags], max_tags)
    author_id = f"email:{mail.author_address}" if mail.author_address else None
    return MemoryDraft(
        text=scrub_text(memory_text(mail, max_chars=max_chars)),
        kind="email",
        tags=[scrub_text(tag) for tag in tags],
        importance=mail.importance,
        source=Source.EMAIL,
        source_ref=scrub_text(mail.message_id) if mail.message_id else None,
        title=scrub_text(mail.title[:300]) or None,
        author=scrub_text(mail.author) if mail.author else None,
        author_id=scrub_text(author_id) if author_id else None,
        created_at=mail.date,
        supersedes=mail.supersedes[0] if mail.supersedes else None,
    )
