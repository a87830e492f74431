"""Block Kit rendering and Slack's text conventions: escaping, clean cuts, Slack's limits."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bots.replies import ErrorReply, HelpReply, QueryReply, RecentReply, ReflectionReply, StoredReply
from bots.slack.blocks import MAX_BLOCKS, SHARE_ACTION, SharedAnswer, message_for, shared_message
from bots.slack.config import SlackCommands
from bots.slack.text import escape, escape_link, slack_to_plain
from memory_core import (
    Conflict,
    Hit,
    Importance,
    InvalidInput,
    Memory,
    Reflection,
    ReflectionPoint,
    Source,
    StoreResult,
    TimelineEntry,
)
from memory_core.testing import make_hit, make_memory

WHEN = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
COMMANDS = SlackCommands()


def memory(id: int = 42, text: str = "the VPN moved to vpn2.corp", **fields: Any) -> Memory:
    fields = {
        "source": Source.SLACK,
        "source_ref": "https://acme.slack.com/archives/C1/p1700000000000100",
        "author_id": "slack:T1:U1",
        "created_at": WHEN,
        **fields,
    }
    return make_memory(id, text, **fields)


def hit(m: Memory) -> Hit:
    return make_hit(m)


def all_text(message: dict[str, Any]) -> str:
    return json.dumps(message, ensure_ascii=False)


def sections(message: dict[str, Any]) -> list[str]:
    texts = [b["text"]["text"] for b in message["blocks"] if b["type"] == "section"]
    texts += [e["text"] for b in message["blocks"] if b["type"] == "context" for e in b["elements"]]
    return texts


# --- text ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("slack", "plain"),
    [
        ("ask <@U012AB|alice> in <#C0123|general>", "ask @alice in #general"),
        ("ask <@U012AB>", "ask @U012AB"),
        ("<!here> <!channel> <!subteam^S1|@oncall>", "@here @channel @oncall"),
        (
            "see <https://x.org/a?b=1&amp;c=2|the docs> and <https://y.org>",
            "see the docs (https://x.org/a?b=1&c=2) and https://y.org",
        ),
        ("mail <mailto:bob@acme.com|bob@acme.com>", "mail bob@acme.com"),
        ("a &lt;b&gt; &amp;&amp; c", "a <b> && c"),
        ("typed &lt;!channel&gt; literally", "typed <!channel> literally"),
        ("&amp;lt;", "&lt;"),
    ],
)
def test_slack_markup_becomes_plain_text(slack: str, plain: str) -> None:
    assert slack_to_plain(slack) == plain


@given(st.text())
def test_escaped_text_cannot_form_markup_or_mass_mentions(text: str) -> None:
    shown = escape(text)
    assert "<" not in shown
    assert ">" not in shown
    for mention in ("@channel", "@here", "@everyone"):
        assert mention not in shown.lower()


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=200))
def test_escape_then_slack_unescape_round_trips(text: str) -> None:
    assert slack_to_plain(escape(text)).replace("\u200b", "") == text.replace("\u200b", "")


def test_escape_link_only_takes_http_urls_and_neutralises_pipes() -> None:
    assert escape_link("https://x.org/a|b>c&d") == "https://x.org/a%7Cb%3Ec&amp;d"
    assert escape_link("javascript:alert(1)") is None
    assert escape_link("https://x.org/a b") is None


# --- replies ---------------------------------------------------------------------------------------


def test_query_answer_shows_id_author_date_tags_link_and_share_button() -> None:
    m = memory(importance=Importance.HIGH, kind="decision")
    message = message_for(QueryReply("where is the VPN?", (hit(m),)), commands=COMMANDS, share=True)

    meta = sections(message)[-1]
    assert meta.startswith("*#42* · alice · <!date^1767605400^{date_short}|2026-01-05>")
    assert "decision" in meta
    assert "`#infra`" in meta
    assert "!high" in meta
    assert "<https://acme.slack.com/archives/C1/p1700000000000100|Slack message>" in meta
    assert message["text"] == "1 memory for “where is the VPN?”"
    button = message["blocks"][-1]["elements"][0]
    assert button["action_id"] == SHARE_ACTION
    assert SharedAnswer.decode(button["value"]).ids == (42,)


def test_without_share_there_is_no_button_and_nothing_found_says_so() -> None:
    message = message_for(QueryReply("x", (hit(memory()),)), commands=COMMANDS, share=False)
    assert not [b for b in message["blocks"] if b["type"] == "actions"]
    empty = message_for(QueryReply("<!here> what?", ()), commands=COMMANDS, share=True)
    assert "Nothing found for “&lt;!here&gt; what?”" in empty["text"]
    assert not [b for b in empty["blocks"] if b["type"] == "actions"]


def test_user_text_everywhere_is_escaped() -> None:
    evil = "<!channel> @here <https://evil.example|https://bank.example> & co"
    m = memory(text=evil, author="<@U1> @everyone", tags=("ok",), kind="note")
    replies = [
        QueryReply(evil, (hit(m),)),
        RecentReply(f"from {evil}", (m,)),
        StoredReply(StoreResult(memory=m, created=False, duplicate_of=42)),
        ErrorReply(f"Can't store that: {evil}."),
    ]
    for reply in replies:
        message = message_for(reply, commands=COMMANDS, share=True)
        # a button's value is data handed back to teamlore on a click, never shown or parsed by Slack
        shown = all_text({**message, "blocks": [b for b in message["blocks"] if b["type"] != "actions"]})
        for live in ("<!channel>", "<https://evil", "<@U1>", "@here", "@everyone"):
            assert live not in shown, (type(reply).__name__, live)


def test_long_text_is_cut_at_a_word_and_sections_stay_under_slack_limits() -> None:
    long = ("word " * 2000) + "END"
    message = message_for(QueryReply("q", (hit(memory(text=long)),)), commands=COMMANDS, text_limit=600)
    body = sections(message)[1]
    assert body.endswith("word…")
    assert len(body) <= 600
    amps = message_for(QueryReply("q", (hit(memory(text="&" * 5000)),)), commands=COMMANDS, text_limit=2500)
    assert all(len(text) <= 3000 for text in sections(amps))
    assert "&am…" not in sections(amps)[1]  # never an entity cut in half


def test_fifty_hits_fit_in_fifty_blocks_with_the_rest_listed_by_id() -> None:
    hits = tuple(hit(memory(id=i, text=f"fact {i}")) for i in range(1, 51))
    message = message_for(QueryReply("everything", hits), commands=COMMANDS, share=True)
    assert len(message["blocks"]) <= MAX_BLOCKS
    shown = all_text(message)
    assert all(f"*#{i}*" in shown for i in range(1, 51))
    assert message["blocks"][-1]["type"] == "actions"
    assert len(message["blocks"][-1]["elements"][0]["value"]) <= 2000


def test_share_value_fits_in_a_button_and_bad_values_are_refused() -> None:
    value = SharedAnswer("query", "why? " * 1000, list(range(1, 51))).encode()
    assert len(value) <= 2000
    assert SharedAnswer.decode(value).ids == tuple(range(1, 51))
    with pytest.raises(InvalidInput):
        SharedAnswer.decode("not json")


def test_shared_message_names_the_sharer_and_handles_gone_memories() -> None:
    answer = SharedAnswer("query", "where is the VPN?", [42])
    posted = shared_message(answer, [memory()], sharer="bob")
    assert posted["blocks"][0]["text"]["text"] == "*bob* shared 1 memory for “where is the VPN?”:"
    gone = shared_message(answer, [], sharer="bob")
    assert "those memories are gone" in gone["text"]


def test_stored_confirmation_names_the_id_and_notes() -> None:
    m = memory(importance=Importance.CRITICAL)
    created = StoreResult(memory=m, created=True, near_duplicates=(7,), redacted=("api key",))
    message = message_for(StoredReply(created), commands=COMMANDS)
    assert message["text"].startswith("Remembered as #42 (#infra, !critical).")
    assert "Similar: #7." in message["text"]
    assert "Redacted before storing: api key." in message["text"]
    again = message_for(StoredReply(StoreResult(memory=m, created=False, duplicate_of=42)), commands=COMMANDS)
    assert again["text"] == "Already remembered as #42."


def test_reflection_cites_ids_and_lists_sources() -> None:
    reflection = Reflection(
        id=99,
        topic="vpn <!here>",
        summary="The VPN moved; the old host is gone.",
        points=(ReflectionPoint(text="moved to vpn2", sources=(42, 43)),),
        timeline=(TimelineEntry(when=WHEN, text="moved", id=42),),
        duplicates=((42, 44),),
        conflicts=(Conflict(ids=(42, 45), reason="different hosts"),),
        sources=(42, 43, 44, 45),
    )
    message = message_for(ReflectionReply(reflection, (memory(),)), commands=COMMANDS)
    shown = all_text(message)
    assert "saved as *#99*" in shown
    assert "[#42, #43]" in shown
    assert "#42 = #44" in shown
    assert "#42 vs #45" in shown
    assert "*Sources*" in shown
    assert "<!here>" not in shown


def test_help_uses_the_configured_command_names() -> None:
    renamed = SlackCommands(store="/tl-store", query="")
    shown = all_text(message_for(HelpReply(), commands=renamed))
    assert "/tl-store &lt;text&gt;" in shown
    assert "/lore query &lt;question&gt;" in shown
    assert "/lore help [command]" in shown
    assert "<question>" not in shown
    one = all_text(message_for(HelpReply("forget"), commands=COMMANDS))
    assert "/forget #&lt;id&gt;" in one
    assert "/store" not in one
