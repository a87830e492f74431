"""Plain-text rendering of chat replies: ids, author, date, tags, source links, clean cuts, no pings."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bots.render import help_text, neutralise_mentions, render, source_link, truncate
from bots.replies import (
    ErrorReply,
    ForgottenReply,
    HelpReply,
    QueryReply,
    RecentReply,
    ReflectionReply,
    StoredReply,
)
from memory_core import (
    Conflict,
    Hit,
    Importance,
    Memory,
    Reflection,
    ReflectionPoint,
    Source,
    StoreResult,
    TimelineEntry,
)
from memory_core.testing import make_hit, make_memory

WHEN = datetime(2026, 1, 5, 14, 3, tzinfo=UTC)


def memory(memory_id: int = 42, text: str = "the VPN moved to vpn2.corp", **fields: Any) -> Memory:
    fields = {
        "source": Source.DISCORD,
        "source_ref": "https://discord.com/channels/1/2/3",
        "author_id": "discord:7",
        "created_at": WHEN,
        **fields,
    }
    return make_memory(memory_id, text, **fields)


def hit(m: Memory) -> Hit:
    return make_hit(m)


def test_query_answer_names_id_author_date_tags_and_link() -> None:
    text = render(QueryReply("where is the vpn", (hit(memory(importance=Importance.HIGH)),)))
    assert text.startswith("1 memory for “where is the vpn”:")
    assert "#42 · alice · 2026-01-05 · #infra · !high" in text
    assert "the VPN moved to vpn2.corp" in text
    assert "↳ https://discord.com/channels/1/2/3" in text


def test_mail_memories_link_back_with_subject_and_sender() -> None:
    mail = memory(source=Source.EMAIL, source_ref="<abc@mail>", title="VPN change", author="bob@acme.com")
    assert source_link(mail) == "mail “VPN change” from bob@acme.com"
    assert "mail “VPN change” from bob@acme.com" in render(RecentReply("tagged #infra", (mail,)))


def test_other_sources_show_their_reference_or_nothing() -> None:
    assert source_link(memory(source=Source.CLI, source_ref="teamlore shell")) == "cli: teamlore shell"
    assert source_link(memory(source=Source.MCP, source_ref=None)) is None


def test_nothing_found_says_so() -> None:
    assert render(QueryReply("unicorns", ())).startswith("Nothing found for “unicorns”")
    assert render(RecentReply("tagged #x", ())) == "No memories tagged #x."


def test_stored_reply_mentions_tags_importance_expiry_and_similar() -> None:
    stored = memory(
        importance=Importance.CRITICAL, kind="decision", expires_at=datetime(2026, 2, 4, tzinfo=UTC)
    )
    result = StoreResult(memory=stored, created=True, near_duplicates=(7, 9), redacted=("password",))
    text = render(StoredReply(result))
    assert text.splitlines()[0] == "Remembered as #42 (#infra, !critical, decision, until 2026-02-04)."
    assert "Similar: #7, #9." in text
    assert "Redacted before storing: password." in text
    duplicate = StoreResult(memory=memory(), created=False, duplicate_of=42)
    assert render(StoredReply(duplicate)) == "Already remembered as #42."


def test_reflection_cites_ids_and_lists_sources() -> None:
    reflection = Reflection(
        id=77,
        topic="vpn",
        summary="The VPN moved.",
        points=(ReflectionPoint(text="New host is vpn2", sources=(42, 43)),),
        timeline=(TimelineEntry(when=WHEN, text="moved", id=42),),
        duplicates=((42, 44),),
        conflicts=(Conflict(ids=(42, 45), reason="different hosts"),),
        sources=(42,),
    )
    text = render(ReflectionReply(reflection, (memory(),)))
    assert "Reflection on “vpn” from 1 memory — saved as #77" in text
    assert "• New host is vpn2 [#42, #43]" in text
    assert "• 2026-01-05 — moved (#42)" in text
    assert "Duplicates: #42 = #44" in text
    assert "#42 vs #45: different hosts" in text
    assert "#42 · alice · 2026-01-05 · #infra · https://discord.com/channels/1/2/3" in text


def test_forgotten_help_and_error() -> None:
    assert render(ForgottenReply(42, "the VPN")) == "Forgot #42 (“the VPN”)."
    assert "!store <text>" in render(HelpReply(), prefix="!")
    assert help_text("forget", prefix="!").startswith("!forget #<id>")
    assert render(ErrorReply("No memory #9.")) == "No memory #9."


def test_long_text_is_cut_at_a_word_boundary() -> None:
    long = "word " * 200
    text = render(QueryReply("q", (hit(memory(text=long)),)), text_limit=50)
    line = next(line for line in text.splitlines() if line.startswith("  word"))
    assert line.endswith("word…")
    assert len(line.strip()) <= 50


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("short", 10, "short"),
        ("the quick brown fox", 12, "the quick…"),
        ("the quick, brown fox", 12, "the quick…"),
        ("abcdefghijklmnopqrstuvwxyz", 10, "abcdefghi…"),
        ("abc", 1, "…"),
        ("abc", 0, ""),
    ],
)
def test_truncate(text: str, limit: int, expected: str) -> None:
    assert truncate(text, limit) == expected


@given(st.text(max_size=300), st.integers(min_value=0, max_value=400))
def test_truncate_never_exceeds_the_limit(text: str, limit: int) -> None:
    cut = truncate(text, limit)
    assert len(cut) <= limit
    if len(text) <= limit:
        assert cut == text


@pytest.mark.parametrize(
    "text",
    ["@everyone look", "hi @here", "@channel", "<@123>", "<@!123>", "<@&55>", "<!here>", "<!subteam^S1>"],
)
def test_mentions_are_neutralised(text: str) -> None:
    safe = neutralise_mentions(text)
    assert safe != text
    assert safe.replace("\u200b", "") == text
    for mention in ("@everyone", "@here", "@channel", "<@", "<!"):
        assert mention not in safe


def test_rendered_replies_never_ping() -> None:
    text = render(QueryReply("q", (hit(memory(text="@everyone the VPN is down <@123>")),)))
    assert "@everyone" not in text
    assert "<@123>" not in text
    assert "the VPN is down" in text
