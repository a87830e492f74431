"""Slash-command options turned into the chat grammar: each option becomes the token a user would type.

The text option is parsed as chat text, and the explicit options are appended as canonical tokens
(`#tag`, `!high`, `ttl:30d`, `since:7d`, ...), so the grammar checks everything in one place and,
because the last option wins, an explicit option overrides one typed in the text.
"""

from __future__ import annotations

from datetime import datetime

from ..grammar import (
    QueryCommand,
    ReflectCommand,
    StoreCommand,
    parse_command,
    parse_duration,
    parse_importance,
    parse_kind,
    parse_tags,
    parse_time,
)

__all__ = ["query_command", "reflect_command", "store_command"]


def _line(text: str, tokens: list[str]) -> str:
    return " ".join([text.strip(), *tokens]).strip()


def _tag_tokens(tags: str | None) -> list[str]:
    return [f"#{tag}" for tag in parse_tags(tags)] if tags else []


def _window_tokens(now: datetime, since: str | None, until: str | None) -> list[str]:
    tokens: list[str] = []
    for name, value in (("since", since), ("until", until)):
        if value:
            parse_time(value, now=now, name=name)  # a clear error before it becomes a token
            tokens.append(f"{name}:{value.strip()}")
    return tokens


def store_command(
    text: str,
    *,
    now: datetime,
    tags: str | None = None,
    importance: str | None = None,
    ttl: str | None = None,
    kind: str | None = None,
) -> StoreCommand:
    tokens = _tag_tokens(tags)
    if importance:
        tokens.append(f"!{parse_importance(importance).value}")
    if ttl:
        parse_duration(ttl)
        tokens.append(f"ttl:{ttl.strip()}")
    if kind:
        tokens.append(f"kind:{parse_kind(kind)}")
    command = parse_command("store", _line(text, tokens), now=now)
    assert isinstance(command, StoreCommand)
    return command


def query_command(
    question: str,
    *,
    now: datetime,
    tags: str | None = None,
    author: str | None = None,
    since: str | None = None,
    until: str | None = None,
    limit: int | None = None,
) -> QueryCommand:
    """`author` is an author filter value already (a display name or `discord:<user id>`)."""
    tokens = _tag_tokens(tags) + _window_tokens(now, since, until)
    if author:
        tokens.append("from:" + "".join(author.split()))
    if limit is not None:
        tokens.append(f"limit:{limit}")
    command = parse_command("query", _line(question, tokens), now=now)
    assert isinstance(command, QueryCommand)
    return command


def reflect_command(
    topic: str | None,
    *,
    now: datetime,
    since: str | None = None,
    until: str | None = None,
    tags: str | None = None,
) -> ReflectCommand:
    tokens = _tag_tokens(tags) + _window_tokens(now, since, until)
    command = parse_command("reflect", _line(topic or "", tokens), now=now)
    assert isinstance(command, ReflectCommand)
    return command
