"""The shared chat grammar (DESIGN §4): what each line means, and that mistakes are explained."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bots.grammar import (
    ForgetCommand,
    HelpCommand,
    QueryCommand,
    ReflectCommand,
    StoreCommand,
    parse,
    parse_command,
    parse_duration,
    parse_importance,
    parse_tags,
)
from memory_core import Importance, InvalidInput

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def p(line: str) -> object:
    return parse(line, now=NOW)


def test_store_with_trailing_tag_and_importance() -> None:
    assert p("/store the VPN moved to vpn2.corp #infra !high") == StoreCommand(
        "the VPN moved to vpn2.corp", ("infra",), Importance.HIGH
    )


def test_store_ttl_and_kind() -> None:
    command = p("/store we pick Postgres ttl:30d kind:Decision")
    assert command == StoreCommand(
        "we pick Postgres", (), Importance.NORMAL, "decision", timedelta(days=30), NOW + timedelta(days=30)
    )


def test_leading_tags_are_removed_inline_tags_keep_their_word() -> None:
    command = p("/store #ops we use #postgres, for billing #db")
    assert isinstance(command, StoreCommand)
    assert command.text == "we use postgres, for billing"
    assert command.tags == ("ops", "postgres", "db")


def test_tags_are_lower_cased_and_unique() -> None:
    command = p("/store text #Infra #infra #VPN")
    assert isinstance(command, StoreCommand)
    assert command.tags == ("infra", "vpn")


@pytest.mark.parametrize(
    "text",
    [
        "C# is great",
        "wow!",
        "see https://example.org/page#section for details",
        "fixed in PR #42",
        "## Heading",
        "# not a tag",
        "ratio note: 3:1",
        "this is !important",
        "mail me at bob@example.org",
        "<@123> and <#456> are Discord mentions",
    ],
)
def test_ordinary_text_stays_text(text: str) -> None:
    command = p(f"/store {text}")
    assert isinstance(command, StoreCommand)
    assert command.text == text
    assert command.tags == ()
    assert command.importance is Importance.NORMAL


def test_backslash_keeps_an_option_as_text() -> None:
    command = p(r"/store colour \#ff0000 is \!high priority")
    assert isinstance(command, StoreCommand)
    assert command.text == "colour #ff0000 is !high priority"
    assert command.tags == ()


def test_trailing_punctuation_is_not_part_of_a_tag() -> None:
    command = p("/store deploy happened (see #infra).")
    assert isinstance(command, StoreCommand)
    assert command.tags == ("infra",)
    assert command.text == "deploy happened (see"


def test_line_breaks_survive_and_gaps_are_merged() -> None:
    command = p("/store first line #a\n  indented !low\nlast #b")
    assert isinstance(command, StoreCommand)
    assert command.text == "first line a\n  indented\nlast"
    assert command.importance is Importance.LOW


def test_last_option_wins() -> None:
    command = p("/store text !low !critical ttl:1d ttl:2w")
    assert isinstance(command, StoreCommand)
    assert command.importance is Importance.CRITICAL
    assert command.ttl == timedelta(weeks=2)


def test_store_keys_are_text_in_other_commands_and_back() -> None:
    query = p("/query what is ttl:30d")
    assert isinstance(query, QueryCommand)
    assert query.question == "what is ttl:30d"
    store = p("/store mail from:@alice limit:5")
    assert isinstance(store, StoreCommand)
    assert store.text == "mail from:@alice limit:5"


def test_query_with_every_filter() -> None:
    command = p("/query where is the VPN? #infra from:@alice since:7d until:2026-03-01 limit:3")
    assert command == QueryCommand(
        "where is the VPN?",
        ("infra",),
        "alice",
        NOW - timedelta(days=7),
        datetime(2026, 3, 1, 23, 59, 59, 999999, tzinfo=UTC),
        3,
    )


def test_query_with_only_filters_lists_newest() -> None:
    assert p("/query #infra") == QueryCommand("", ("infra",))


def test_dates_and_datetimes() -> None:
    command = p("/query x since:2026-01-01 until:2026-01-31T10:00:00+02:00")
    assert isinstance(command, QueryCommand)
    assert command.since == datetime(2026, 1, 1, tzinfo=UTC)
    assert command.until == datetime(2026, 1, 31, 8, 0, tzinfo=UTC)


def test_reflect_topic_window_and_tags() -> None:
    assert p("/reflect vpn since:30d #infra") == ReflectCommand(
        "vpn", NOW - timedelta(days=30), None, ("infra",)
    )
    assert p("/reflect since:2w") == ReflectCommand(None, NOW - timedelta(weeks=2))


@pytest.mark.parametrize("line", ["/forget #42", "/forget 42", "forget  #42 ", "/lore forget #42"])
def test_forget(line: str) -> None:
    assert p(line) == ForgetCommand(42)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("/lore help", HelpCommand()),
        ("/lore", HelpCommand()),
        ("lore help store", HelpCommand("store")),
        ("/help", HelpCommand()),
        ("/lore help !query", HelpCommand("query")),
    ],
)
def test_help(line: str, expected: HelpCommand) -> None:
    assert p(line) == expected


def test_umbrella_form_is_the_same_as_the_command() -> None:
    assert p("/lore store text #x !high") == p("/store text #x !high")
    assert p("lore query where\nis it") == QueryCommand("where\nis it")


def test_parse_command_takes_name_and_arguments_separately() -> None:
    assert parse_command("STORE", "hello #x", now=NOW) == StoreCommand("hello", ("x",))


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("/store x ttl:abc", "ttl must look like 30d, 12h, 2w or 90m"),
        ("/store x ttl:0d", "ttl must be longer than zero"),
        ("/store x ttl:99999w", "at most ten years"),
        ("/store x kind:", "kind: needs a value"),
        ("/store x kind:two-words!", "kind must be one short word"),
        ("/store #only #tags", "nothing to store"),
        ("/query", "what do you want to know?"),
        ("/query x limit:0", "limit must be a number from 1 to 50"),
        ("/query x limit:51", "limit must be a number from 1 to 50"),
        ("/query x since:2026-02-30", "2026-02-30 is not a real date"),
        ("/query x since:yesterday", "since must be a date like 2026-01-31 or a duration like 7d"),
        ("/query x since:2026-02-01 until:2026-01-01", "since must be earlier than until"),
        ("/query x from:@", "from: needs a name"),
        ("/reflect", "reflect needs a topic or a period"),
        ("/reflect #infra", "reflect needs a topic or a period"),
        ("/forget", "say which memory by its id"),
        ("/forget #abc", "say which memory by its id"),
        ("/forget #0", "say which memory by its id"),
        ("/remember x", "there is no command 'remember'"),
        ("/lore help nothing", "there is no command 'nothing'"),
        ("", "type a command"),
        (f"/store x #{'a' * 65}", "tags can be at most 64 characters"),
    ],
)
def test_mistakes_are_explained(line: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        p(line)


def test_value_helpers_for_slash_command_options() -> None:
    assert parse_duration("90m") == timedelta(minutes=90)
    assert parse_duration("12H") == timedelta(hours=12)
    assert parse_importance("critical") is Importance.CRITICAL
    assert parse_tags("infra, #VPN ops") == ("infra", "vpn", "ops")
    with pytest.raises(InvalidInput):
        parse_tags("good, b@d")


_PIECES = st.sampled_from(
    [
        "#",
        "#tag",
        "#42",
        "#a.b/c",
        "!high",
        "!",
        "!LOW",
        "ttl:",
        "ttl:30d",
        "ttl:0d",
        "ttl:9999999d",
        "kind:",
        "kind:Decision",
        "since:",
        "since:7d",
        "until:2026-01-31",
        "until:2026-13-40",
        "until:0001-01-01",
        "since:9999-12-31",
        "until:2026-01-31T25:00",
        "limit:",
        "limit:5",
        "limit:٣",
        "from:@",
        "from:@bob",
        "\\",
        "\\#x",
        " ",
        "  ",
        "\n",
        "\t",
        "lore",
        "store",
        "query",
        "help",
        "reflect",
        "forget",
        "/",
        "C#",
        "https://x.org/#f",
        "<@123>",
        "@everyone",
        "İ",
        "ß",
        "\x00",
    ]
)
_LINES = st.tuples(
    st.sampled_from(["/store ", "/query ", "/reflect ", "/forget ", "/lore ", "/lore help ", "", "/"]),
    st.lists(st.one_of(_PIECES, st.text(max_size=8)), max_size=12).map("".join),
).map("".join)


@settings(max_examples=400, deadline=None)
@given(_LINES)
def test_parse_only_ever_raises_invalid_input(line: str) -> None:
    try:
        command = p(line)
    except InvalidInput as error:
        message = str(error)
        assert message
        return
    if isinstance(command, StoreCommand):
        assert command.text == command.text.strip()
        assert command.text
        assert all(0 < len(tag) <= 64 for tag in command.tags)
    if isinstance(command, QueryCommand):
        assert 1 <= command.limit <= 50


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_any_text_parses_or_is_refused_cleanly(text: str) -> None:
    for prefix in ("/store ", "/query ", "/reflect "):
        with contextlib.suppress(InvalidInput):
            p(prefix + text)


def test_store_supersedes_names_the_memory_it_replaces() -> None:
    command = parse("/store backups are kept for 14 days supersedes:#12 #backup", now=NOW)
    assert isinstance(command, StoreCommand)
    assert (command.text, command.supersedes, command.tags) == (
        "backups are kept for 14 days",
        12,
        ("backup",),
    )
    assert parse("/store no replacement here", now=NOW).supersedes is None  # type: ignore[union-attr]
    for bad in ("supersedes:", "supersedes:twelve", "supersedes:#0"):
        with pytest.raises(InvalidInput, match="supersedes"):
            parse(f"/store text {bad}", now=NOW)


def test_query_superseded_yes_asks_for_replaced_memories_too() -> None:
    asked = parse("/query how long are backups kept superseded:yes", now=NOW)
    assert isinstance(asked, QueryCommand) and asked.include_superseded
    assert asked.question == "how long are backups kept"
    assert not parse("/query how long are backups kept", now=NOW).include_superseded  # type: ignore[union-attr]
    with pytest.raises(InvalidInput, match="superseded: is yes or no"):
        parse("/query backups superseded:maybe", now=NOW)
