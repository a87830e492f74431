"""The chat command grammar of DESIGN §4 (Slack, Discord, `teamlore shell`), parsed into frozen commands.

    /store <text> [#tag ...] [!low|!normal|!high|!critical] [ttl:30d] [kind:decision] [supersedes:#12]
    /query <question> [#tag ...] [from:@who] [since:7d] [until:2026-01-31] [limit:5] [superseded:yes]
    /reflect [topic] [since:30d] [until:...] [#tag ...]
    /forget #<id>
    /lore help [command]          /lore <store|query|reflect|forget> ...   (the umbrella form)

How a line is read (the text is split on whitespace into tokens; each token is one of these):

- `#tag`: `#` then a letter or digit, then letters, digits, `_ - . /`; at least one letter (so `#42`
  stays a reference, `#` and `##` stay text). Trailing `.,;:!?)` is punctuation, not part of the tag.
  Tags are lower-cased, at most 64 characters. A tag *between* words of the text keeps its word in the
  text without the `#` ("use #postgres for billing" -> text "use postgres for billing", tag postgres);
  tags before or after the text are removed from it.
- `!low`, `!normal`, `!high`, `!critical` (whole token, any case): the importance (/store only).
- `key:value` options, only the keys of the command at hand (`ttl`, `kind`, `supersedes` for /store;
  `from`, `since`, `until`, `limit`, `superseded` for /query; `since`, `until` for /reflect). Any other
  `word:thing` (`note:`, `https://...`) is text. Durations are a number and a unit: `90m`, `12h`,
  `30d`, `2w` (at most ten years). Dates are `2026-01-31` (UTC; `until:` includes that whole day)
  or ISO date-times. `since:7d` means "from 7 days ago", `until:7d` "up to 7 days ago".
- A token that would be an option can be kept as text by prefixing a backslash: `\\#123abc`, `\\!high`.
- Everything else is text, kept with its original spacing and line breaks ("C# is great", "wow!",
  `https://x.org/page#section` are ordinary text).

When an option is given twice the last one counts (so a front-end may append explicit options to the
user's text); tags accumulate. Every mistake raises `memory_core.InvalidInput` with a message written
for the person who typed the line; nothing else escapes `parse`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

from memory_core import Importance, InvalidInput

__all__ = [
    "COMMAND_NAMES",
    "MAX_LIMIT",
    "MAX_TTL",
    "USAGE",
    "Command",
    "ForgetCommand",
    "HelpCommand",
    "QueryCommand",
    "ReflectCommand",
    "StoreCommand",
    "command_name",
    "parse",
    "parse_command",
    "parse_duration",
    "parse_importance",
    "parse_kind",
    "parse_limit",
    "parse_memory_id",
    "parse_tags",
    "parse_time",
]

MAX_LIMIT = 50
DEFAULT_LIMIT = 5
MAX_TTL = timedelta(days=3660)
MAX_TAG_CHARS = 64

CommandName = Literal["store", "query", "reflect", "forget", "help"]
COMMAND_NAMES: tuple[CommandName, ...] = ("store", "query", "reflect", "forget", "help")

# name -> (synopsis, what it does, example); the help reply and every front-end's help come from here.
USAGE: dict[CommandName, tuple[str, str, str]] = {
    "store": (
        "store <text> [#tag ...] [!low|!high|!critical] [ttl:30d] [kind:decision] [supersedes:#12]",
        "Remember something for the team (supersedes:#12 replaces memory #12).",
        "store the VPN moved to vpn2.corp #infra !high",
    ),
    "query": (
        "query <question> [#tag ...] [from:@who] [since:7d] [until:2026-01-31] [limit:5] [superseded:yes]",
        "Find what the team knows (a question, or only filters for the newest matches).",
        "query where is the VPN? #infra since:30d",
    ),
    "reflect": (
        "reflect [topic] [since:30d] [until:2026-01-31] [#tag ...]",
        "Summarise what is known about a topic or a period, citing memory ids; saved as a reflection.",
        "reflect vpn since:90d",
    ),
    "forget": (
        "forget #<id>",
        "Delete a memory for good (its author or an admin only).",
        "forget #42",
    ),
    "help": ("lore help [command]", "Show this help, or the help of one command.", "lore help store"),
}


@dataclass(frozen=True, slots=True)
class StoreCommand:
    """Remember `text`; `expires_at` is `now + ttl` when a ttl was given."""

    text: str
    tags: tuple[str, ...] = ()
    importance: Importance = Importance.NORMAL
    kind: str = "note"
    ttl: timedelta | None = None
    expires_at: datetime | None = None
    supersedes: int | None = None  # the id this memory replaces (`supersedes:#12`)


@dataclass(frozen=True, slots=True)
class QueryCommand:
    """Answer `question` (may be empty when filters are given: then the newest matches are listed)."""

    question: str
    tags: tuple[str, ...] = ()
    author: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = DEFAULT_LIMIT
    include_superseded: bool = False  # `superseded:yes`: also memories replaced by newer ones


@dataclass(frozen=True, slots=True)
class ReflectCommand:
    """Reflect on `topic` and/or the window `since..until`, optionally narrowed to tags."""

    topic: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ForgetCommand:
    memory_id: int


@dataclass(frozen=True, slots=True)
class HelpCommand:
    """General help, or the help of one command (`topic`)."""

    topic: CommandName | None = None


Command = StoreCommand | QueryCommand | ReflectCommand | ForgetCommand | HelpCommand


# --- single values -------------------------------------------------------------------------------

_DURATION = re.compile(r"(\d{1,7})\s*([mhdw])", re.IGNORECASE)
_UNIT = {"m": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_KIND = re.compile(r"[a-z][a-z0-9_-]{0,31}")
_MEMORY_ID = re.compile(r"#?(\d{1,18})")
_TAG = re.compile(r"#([^\W_][\w./-]*?)([.,;:!?)]*)")
_IMPORTANCE = {f"!{level.value}": level for level in Importance}


def parse_duration(value: str, *, name: str = "ttl") -> timedelta:
    """`30d`, `12h`, `2w`, `90m` -> timedelta (positive, at most ten years)."""
    match = _DURATION.fullmatch(value.strip())
    if not match:
        raise InvalidInput(f"{name} must look like 30d, 12h, 2w or 90m (got {_show(value)})")
    amount = int(match.group(1))
    if amount == 0:
        raise InvalidInput(f"{name} must be longer than zero")
    unit = _UNIT[match.group(2).lower()]
    if amount > MAX_TTL // unit:
        raise InvalidInput(f"{name} can be at most ten years ({MAX_TTL.days}d)")
    return amount * unit


def parse_time(value: str, *, now: datetime, name: str, end_of_day: bool = False) -> datetime:
    """A date (`2026-01-31`), ISO date-time, or a duration meaning that long before `now` -> aware UTC.

    With `end_of_day` a bare date means the last instant of that day (so `until:2026-01-31` includes it).
    """
    value = value.strip()
    if _DURATION.fullmatch(value):
        return _aware(now) - parse_duration(value, name=name)
    problem = f"{name} must be a date like 2026-01-31 or a duration like 7d (got {_show(value)})"
    if _DATE.fullmatch(value):
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise InvalidInput(f"{name}: {value} is not a real date") from None
        return datetime.combine(day, time.max if end_of_day else time.min, tzinfo=UTC)
    if "T" in value.upper() and _DATE.match(value):
        try:
            return _aware(datetime.fromisoformat(value))
        except ValueError:
            raise InvalidInput(problem) from None
    raise InvalidInput(problem)


def parse_importance(value: str) -> Importance:
    """`high`, `!high`, `HIGH` -> Importance.HIGH."""
    key = "!" + value.strip().lstrip("!").lower()
    if key not in _IMPORTANCE:
        raise InvalidInput("importance must be !low, !normal, !high or !critical")
    return _IMPORTANCE[key]


def parse_kind(value: str) -> str:
    kind = value.strip().lower()
    if not _KIND.fullmatch(kind):
        raise InvalidInput("kind must be one short word such as note, decision or incident")
    return kind


def parse_limit(value: str) -> int:
    text = value.strip()
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= MAX_LIMIT:
        raise InvalidInput(f"limit must be a number from 1 to {MAX_LIMIT}")
    return int(text)


def parse_memory_id(value: str) -> int:
    """`#42` or `42` -> 42."""
    match = _MEMORY_ID.fullmatch(value.strip())
    if not match or int(match.group(1)) == 0:
        raise InvalidInput("say which memory by its id, e.g. forget #42")
    return int(match.group(1))


def parse_tags(value: str) -> tuple[str, ...]:
    """`infra, #vpn ops` -> ("infra", "vpn", "ops") (for the tags option of slash commands)."""
    tags: list[str] = []
    for word in re.split(r"[\s,]+", value.strip()):
        if not word:
            continue
        tag = _tag_of(word if word.startswith("#") else "#" + word)
        if tag is None:
            raise InvalidInput(f"{_show(word)} is not a tag: use letters, digits, _ - . /")
        tags.append(tag[0])
    return _unique(tags)


def _tag_of(token: str) -> tuple[str, str] | None:
    """(normalised tag, the word as it reads in a sentence) or None when the token is not a tag."""
    match = _TAG.fullmatch(token)
    if not match or not any(char.isalpha() for char in match.group(1)):
        return None
    tag = match.group(1).lower()
    if len(tag) > MAX_TAG_CHARS:
        raise InvalidInput(f"tags can be at most {MAX_TAG_CHARS} characters long")
    return tag, match.group(1) + match.group(2)


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _show(value: str) -> str:
    return repr(value if len(value) <= 40 else value[:39] + "…")


def _unique(tags: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(tags))


# --- lines ---------------------------------------------------------------------------------------

_TOKEN = re.compile(r"\S+")
_FIRST_WORD = re.compile(r"(\S*)(.*)", re.DOTALL)
_OPTION = re.compile(r"([A-Za-z]+):(.*)", re.DOTALL)

# What a token is: text, a tag, or an option (removed from the text). The value is applied later.
_Kind = Literal["text", "tag", "option"]


@dataclass(slots=True)
class _Token:
    start: int
    end: int
    kind: _Kind
    word: str  # what stays in the text (for text tokens and inline tags)
    key: str = ""
    value: str = ""


@dataclass(slots=True)
class _Options:
    tags: list[str] = field(default_factory=list)
    values: dict[str, str] = field(default_factory=dict)


def _classify(token: str, keys: frozenset[str]) -> tuple[_Kind, str, str] | None:
    """(kind, key, value) if the token is a tag or an option of this command, else None (text)."""
    tag = _tag_of(token) if token.startswith("#") else None
    if tag is not None:
        return "tag", tag[0], tag[1]
    if "importance" in keys and token.lower() in _IMPORTANCE:
        return "option", "importance", token
    option = _OPTION.fullmatch(token)
    if option and option.group(1).lower() in keys:
        return "option", option.group(1).lower(), option.group(2)
    return None


def _scan(args: str, keys: frozenset[str]) -> tuple[str, _Options]:
    """Split the argument text into the free text and the options it carries."""
    tokens: list[_Token] = []
    for match in _TOKEN.finditer(args):
        raw = match.group()
        found = _classify(raw, keys)
        if found is None:
            literal = raw[1:] if raw.startswith("\\") and _classify(raw[1:], keys) is not None else raw
            tokens.append(_Token(match.start(), match.end(), "text", literal))
        else:
            kind, key, value = found
            tokens.append(
                _Token(match.start(), match.end(), kind, value if kind == "tag" else "", key, value)
            )

    options = _Options()
    text_positions = [i for i, token in enumerate(tokens) if token.kind == "text"]
    for i, token in enumerate(tokens):
        if token.kind == "tag":
            options.tags.append(token.key)
            inline = bool(text_positions) and text_positions[0] < i < text_positions[-1]
            token.kind = "text" if inline else "tag"  # an inline tag keeps its word in the sentence
        elif token.kind == "option":
            if not token.value.strip():
                raise InvalidInput(f"{token.key}: needs a value, e.g. {_EXAMPLES[token.key]}")
            options.values[token.key] = token.value
    return _rebuild(args, tokens), options


_EXAMPLES = {
    "ttl": "ttl:30d",
    "kind": "kind:decision",
    "supersedes": "supersedes:#12",
    "from": "from:@alice",
    "since": "since:7d",
    "until": "until:2026-01-31",
    "limit": "limit:5",
    "superseded": "superseded:yes",
    "importance": "!high",
}


def _rebuild(args: str, tokens: list[_Token]) -> str:
    """The text tokens with their original spacing; where options were cut out, the gaps are merged."""
    pieces: list[str] = []
    position = 0
    pending: str | None = None  # whitespace accumulated across removed tokens
    for token in tokens:
        gap = args[position : token.start]
        position = token.end
        if token.kind != "text":
            pending = gap if pending is None else pending + gap
            continue
        if pending is not None:
            gap = _merge_gap(pending + gap)
            pending = None
        pieces.append(gap)
        pieces.append(token.word)
    return "".join(pieces).strip()


def _merge_gap(gap: str) -> str:
    if "\n" not in gap:
        return " " if gap else ""
    head, _, indent = gap.rpartition("\n")
    return "\n" * (head.count("\n") + 1) + indent


_STORE_KEYS = frozenset({"importance", "ttl", "kind", "supersedes"})
_QUERY_KEYS = frozenset({"from", "since", "until", "limit", "superseded"})
_REFLECT_KEYS = frozenset({"since", "until"})


def _parse_store(args: str, now: datetime) -> StoreCommand:
    text, options = _scan(args, _STORE_KEYS)
    values = options.values
    importance = parse_importance(values["importance"]) if "importance" in values else Importance.NORMAL
    kind = parse_kind(values["kind"]) if "kind" in values else "note"
    ttl = parse_duration(values["ttl"]) if "ttl" in values else None
    if not text:
        raise InvalidInput("there is nothing to store: write the text, then the #tags and options")
    expires_at = _aware(now) + ttl if ttl is not None else None
    supersedes = _superseded(values["supersedes"]) if "supersedes" in values else None
    return StoreCommand(text, _unique(options.tags), importance, kind, ttl, expires_at, supersedes)


def _superseded(value: str) -> int:
    match = _MEMORY_ID.fullmatch(value.strip())
    if not match or int(match.group(1)) == 0:
        raise InvalidInput("supersedes: needs the id of the memory this one replaces, e.g. supersedes:#12")
    return int(match.group(1))


def _window(values: dict[str, str], now: datetime) -> tuple[datetime | None, datetime | None]:
    since = parse_time(values["since"], now=now, name="since") if "since" in values else None
    until = parse_time(values["until"], now=now, name="until", end_of_day=True) if "until" in values else None
    if since is not None and until is not None and since > until:
        raise InvalidInput("since must be earlier than until")
    return since, until


def _parse_query(args: str, now: datetime) -> QueryCommand:
    question, options = _scan(args, _QUERY_KEYS)
    values = options.values
    since, until = _window(values, now)
    author = values["from"].strip().lstrip("@").strip() if "from" in values else None
    if author == "":
        raise InvalidInput("from: needs a name, e.g. from:@alice")
    limit = parse_limit(values["limit"]) if "limit" in values else DEFAULT_LIMIT
    tags = _unique(options.tags)
    if not question and not (tags or author or since or until):
        raise InvalidInput("what do you want to know? e.g. query where is the VPN? #infra")
    history = _yes(values["superseded"]) if "superseded" in values else False
    return QueryCommand(question, tags, author, since, until, limit, history)


def _yes(value: str) -> bool:
    word = value.strip().lower()
    if word not in ("yes", "no", "true", "false", "on", "off"):
        raise InvalidInput("superseded: is yes or no, e.g. superseded:yes")
    return word in ("yes", "true", "on")


def _parse_reflect(args: str, now: datetime) -> ReflectCommand:
    topic, options = _scan(args, _REFLECT_KEYS)
    since, until = _window(options.values, now)
    if not topic and since is None and until is None:
        raise InvalidInput("reflect needs a topic or a period, e.g. reflect vpn, or reflect since:30d")
    return ReflectCommand(topic or None, since, until, _unique(options.tags))


def _parse_forget(args: str, now: datetime) -> ForgetCommand:
    return ForgetCommand(parse_memory_id(args))


def _parse_help(args: str, now: datetime) -> HelpCommand:
    words = args.split()
    if not words:
        return HelpCommand()
    topic = words[-1].lstrip("/!").lower()
    if topic in ("lore", "help"):
        return HelpCommand("help")
    for name in COMMAND_NAMES:
        if name == topic:
            return HelpCommand(name)
    raise InvalidInput(f"there is no command {_show(words[-1])}; try: lore help")


_PARSERS: dict[str, Callable[[str, datetime], Command]] = {
    "store": _parse_store,
    "query": _parse_query,
    "reflect": _parse_reflect,
    "forget": _parse_forget,
    "help": _parse_help,
}


def parse_command(name: str, args: str, *, now: datetime) -> Command:
    """Parse the arguments of the command `name` (store, query, reflect, forget, help or lore).

    `now` anchors relative times (`ttl:30d`, `since:7d`). `lore` is the umbrella: its first word names
    the sub-command; `lore` alone is help.
    """
    key = name.strip().lower()
    if key == "lore":
        sub, rest = _head(args)
        if not sub:
            return HelpCommand()
        if sub.lower() == "lore":
            raise InvalidInput("say which command, e.g. lore help")
        return parse_command(sub, rest, now=now)
    parser = _PARSERS.get(key)
    if parser is None:
        raise InvalidInput(f"there is no command {_show(name)}; try: lore help")
    return parser(args, now)


def parse(line: str, *, now: datetime) -> Command:
    """Parse a whole line such as `/store the VPN moved #infra` (the leading `/` is optional)."""
    stripped = line.strip()
    if stripped.startswith("/"):
        stripped = stripped[1:]
    name, args = _head(stripped)
    if not name:
        raise InvalidInput("type a command, e.g. lore help")
    return parse_command(name, args, now=now)


def _head(text: str) -> tuple[str, str]:
    """The first word and the rest (spacing and line breaks of the rest kept)."""
    match = _FIRST_WORD.match(text.lstrip())
    assert match is not None  # the pattern matches any string
    return match.group(1), match.group(2)


def command_name(line: str) -> str:
    """Which command a (possibly malformed) line asks for: store, query, ..., or "do" when unclear.

    Used to word an error about a line that did not parse ("Can't query that: ...").
    """
    name, rest = _head(line.strip().lstrip("/!"))
    name = name.lower()
    if name == "lore":
        name = _head(rest)[0].lower() or "help"
    return name if name in _PARSERS else "do"
