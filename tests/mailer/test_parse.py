"""Parsing forwarded mail: each client's forward style, charsets, cleaning, tags, importance, attachments."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailer import MalformedMail, parse_mail
from mailer.compose import memory_draft, memory_text
from memory_core import Importance, InvalidInput, Source

from .conftest import corpus, fixture_bytes


def test_gmail_inline_forward() -> None:
    mail = parse_mail(fixture_bytes("gmail_forward.eml"))

    assert mail.forward_style == "gmail"
    assert (mail.author_name, mail.author_address) == ("Alice Martin", "alice@acme.example")
    assert (mail.sender_name, mail.sender_address) == ("Bob Builder", "bob@acme.example")
    assert mail.title == "Postgres upgrade window"
    assert mail.date == datetime(2026, 3, 3, 17, 41, tzinfo=timezone(timedelta(hours=1)))
    assert mail.note == "Keeping this for the team. #database"
    assert "upgrade the main Postgres cluster to version 17 on Saturday 14 March" in mail.body
    # The quoted question, its "On ... wrote:" line and Alice's "-- " signature are gone.
    assert "batch import" not in mail.body
    assert "wrote:" not in mail.body
    assert "Database team" not in mail.body
    assert mail.tags == ("infra", "database")
    assert mail.importance is Importance.NORMAL
    assert mail.message_id == "<CAJx8kQ2vY1Lr0Gmail7f3@mail.gmail.com>"


def test_outlook_forward_with_history_and_attachments() -> None:
    mail = parse_mail(fixture_bytes("outlook_forward.eml"))

    assert mail.forward_style == "outlook"
    assert mail.author == "Erin Kowalski"
    assert mail.author_address == "erin@acme.example"
    assert mail.title == "Decision: vendor for on-call paging"
    assert mail.date == datetime(2026, 3, 5, 14, 11, tzinfo=UTC)  # "2:11 PM", zone of the outer mail
    assert mail.note == "FYI - final decision below, please keep it."
    assert "from OpsGenie to PagerDuty on April 1st" in mail.body
    assert "Get Outlook for iOS" not in mail.body
    assert "Which one did we pick" not in mail.body  # the older thread below the forwarded message
    assert [item.filename for item in mail.attachments] == ["PagerDuty rollout plan.pdf"]  # not image001.png
    assert mail.importance is Importance.HIGH  # Importance: high / X-Priority: 1


def test_apple_mail_quoted_forward() -> None:
    mail = parse_mail(fixture_bytes("apple_forward.eml"))

    assert mail.forward_style == "apple"
    assert (mail.author_name, mail.author_address) == ("Frank Li", "frank@partner.example")
    assert mail.title == "API rate limits for the partner integration"
    assert mail.date == datetime(2026, 3, 2, 18, 30, 12, tzinfo=timezone(timedelta(hours=1)))
    assert mail.note == "Worth remembering for #partners."  # "Sent from my iPhone" dropped
    assert mail.body.startswith("Hi Grace,")
    assert "600 requests per minute per key" in mail.body
    assert ">" not in mail.body
    assert mail.tags == ("partners",)
    assert mail.importance is Importance.HIGH  # "Urgent:" in the subject


def test_thunderbird_inline_forward_flowed_utf8() -> None:
    mail = parse_mail(fixture_bytes("thunderbird_forward.eml"))

    assert mail.forward_style == "thunderbird"
    assert (mail.author_name, mail.author_address) == ("Heidi Müller", "heidi@acme.example")
    assert mail.title == "Release checklist for 4.2"
    assert mail.date == datetime(2026, 3, 2, 11, 5, 44, tzinfo=timezone(timedelta(hours=1)))
    assert (
        mail.note == "Storing the 4.2 checklist so the next release manager finds it."
    )  # no "-- " signature
    # format=flowed soft breaks are joined again
    assert "run the migration dry-run on staging, and get sign-off from QA (Ivan)." in mail.body
    assert "Grüße-Bot" in mail.body
    assert "Release engineering" not in mail.body


def test_thunderbird_forward_as_attachment() -> None:
    mail = parse_mail(fixture_bytes("thunderbird_attached.eml"))

    assert mail.forward_style == "rfc822"
    assert (mail.author_name, mail.author_address) == ("Kowalski, Erin", "erin@acme.example")
    assert mail.title == "Incident 2291 timeline"
    assert mail.date == datetime(2026, 3, 5, 11, 20, tzinfo=UTC)
    assert mail.note.startswith("Postmortem material for incident 2291")
    assert "TLS certificate of the gateway expired" in mail.body
    assert "Erin – SRE" in mail.body  # iso-8859-1 label, cp1252 dash: decoded as meant
    assert mail.tags == ("incident",)
    assert mail.importance is Importance.CRITICAL  # the !critical marker
    names = {item.filename: item for item in mail.attachments}
    assert set(names) == {"timeline.txt", "postmortem.pdf"}
    assert names["timeline.txt"].text is not None
    assert "certificate renewed, errors stop" in names["timeline.txt"].text
    assert names["postmortem.pdf"].text is None


def test_memory_draft_from_a_forward() -> None:
    mail = parse_mail(fixture_bytes("gmail_forward.eml"))
    draft = memory_draft(mail, recipients=["lore+ops@teamlore.example"], max_chars=16_000, max_tags=12)

    assert draft.source is Source.EMAIL
    assert draft.kind == "email"
    assert draft.author == "Alice Martin"
    assert draft.author_id == "email:alice@acme.example"
    assert draft.title == "Postgres upgrade window"
    assert draft.source_ref == "<CAJx8kQ2vY1Lr0Gmail7f3@mail.gmail.com>"
    assert draft.tags == ("ops", "infra", "database")  # plus-address first
    assert draft.created_at == mail.date
    assert draft.text.startswith("Postgres upgrade window\n\nKeeping this for the team.")


def test_memory_text_lists_attachments_and_is_cut() -> None:
    mail = parse_mail(fixture_bytes("thunderbird_attached.eml"))
    text = memory_text(mail, max_chars=16_000)
    assert "Attachments: timeline.txt, postmortem.pdf" in text
    assert "--- timeline.txt ---\n10:02 payments API returns 502" in text

    short = memory_text(mail, max_chars=200)
    assert len(short) <= 200
    assert short.endswith("[... truncated]")


def _mail(headers: str, body: bytes | str, *, content_type: str = "text/plain; charset=utf-8") -> bytes:
    head = headers.strip() + f"\nMIME-Version: 1.0\nContent-Type: {content_type}\n\n"
    raw = body.encode() if isinstance(body, str) else body
    return head.encode() + raw


def test_a_mail_that_forwards_nothing_is_its_own_original() -> None:
    data = _mail(
        "From: Carol Jones <carol@acme.example>\nSubject: [hr] New laptop policy !low\n"
        "Date: Mon, 2 Mar 2026 10:00:00 +0000\nMessage-ID: <direct-1@acme.example>",
        "Laptops are replaced every four years from now on.\n\nCarol\n",
    )
    mail = parse_mail(data)
    assert mail.forward_style is None
    assert (mail.author, mail.author_address) == ("Carol Jones", "carol@acme.example")
    assert mail.title == "New laptop policy"
    assert mail.tags == ("hr",)
    assert mail.importance is Importance.LOW
    assert mail.note == ""


def test_a_reply_keeps_its_text_and_drops_the_thread() -> None:
    body = (
        "Agreed, we go with option B.\n\n"
        "________________________________\nFrom: Dan Ortiz <dan@acme.example>\n"
        "Sent: Monday, March 2, 2026 9:00 AM\nSubject: Options\n\nA or B?\n"
    )
    mail = parse_mail(_mail("From: Erin <erin@acme.example>\nSubject: RE: Options", body))
    assert mail.forward_style is None
    assert mail.author == "Erin"
    assert mail.body == "Agreed, we go with option B."


def test_html_only_outlook_forward() -> None:
    html = (
        "<html><body><p>Please keep this #Security</p><hr>"
        "<div id='divRplyFwdMsg'><b>From:</b> Sam Lee &lt;sam@acme.example&gt;<br>"
        "<b>Sent:</b> Tuesday, March 3, 2026 9:30 AM<br><b>To:</b> All &lt;all@acme.example&gt;<br>"
        "<b>Subject:</b> Password manager rollout</div><br>"
        "<div><p>Everyone moves to the team password manager by <b>March 20</b>. "
        "See <a href='https://wiki.acme.example/pm'>the wiki page</a>.</p>"
        "<img src='cid:logo'></div></body></html>"
    )
    data = _mail(
        "From: Dan <dan@acme.example>\nSubject: FW: Password manager rollout\n"
        "Date: Tue, 3 Mar 2026 10:00:00 +0000",
        html,
        content_type="text/html; charset=utf-8",
    )
    mail = parse_mail(data)
    assert mail.forward_style == "outlook"
    assert (mail.author_name, mail.author_address) == ("Sam Lee", "sam@acme.example")
    assert mail.title == "Password manager rollout"
    assert mail.date == datetime(2026, 3, 3, 9, 30, tzinfo=UTC)
    assert "Everyone moves to the team password manager by March 20." in mail.body
    assert "https://wiki.acme.example/pm" in mail.body  # links stay readable
    assert "<" not in mail.body
    assert mail.tags == ("security",)


@pytest.mark.parametrize(
    ("charset", "encoded", "expected"),
    [
        ("koi8-r", "Привет, команда".encode("koi8-r"), "Привет, команда"),
        ("iso-8859-2", "Zażółć gęślą jaźń".encode("iso-8859-2"), "Zażółć gęślą jaźń"),
        ("shift_jis", "会議は月曜日です".encode("shift_jis"), "会議は月曜日です"),
        ("utf-8", "Grüße aus Köln".encode("latin-1"), "Grüße aus Köln"),  # label lies: latin-1 bytes
        ("us-ascii", "Café crème".encode(), "Café crème"),  # label lies: utf-8 bytes
        ("x-unknown-charset", "naïve résumé".encode(), "naïve résumé"),
        ("ks_c_5601-1987", "회의록".encode("cp949"), "회의록"),
    ],
)
def test_body_charsets(charset: str, encoded: bytes, expected: str) -> None:
    data = _mail(
        "From: a@acme.example\nSubject: charset", encoded, content_type=f"text/plain; charset={charset}"
    )
    assert parse_mail(data).body == expected


def test_header_charsets() -> None:
    data = _mail(
        "From: =?koi8-r?b?78zFyyDp18HOz9c=?= <oleg@acme.example>\n"
        "Subject: =?utf-8?q?R=C3=A9union_d=27=C3=A9quipe?= =?iso-8859-1?q?_=E0_10h?=",
        "Ordre du jour en pièce jointe.",
        content_type="text/plain; charset=utf-8",
    )
    mail = parse_mail(data)
    assert mail.author == "Олек Иванов"
    assert mail.title == "Réunion d'équipe à 10h"


def test_raw_8bit_header_uses_the_declared_charset() -> None:
    data = (
        "From: Jürgen <j@acme.example>\nSubject: Übergabe für Montag\nMIME-Version: 1.0\n"
        "Content-Type: text/plain; charset=iso-8859-1\n\nDie Übergabe ist um 9 Uhr.\n"
    ).encode("latin-1")
    mail = parse_mail(data)
    assert mail.author == "Jürgen"
    assert mail.title == "Übergabe für Montag"
    assert mail.body == "Die Übergabe ist um 9 Uhr."


def test_hashtags_are_prose_not_code_or_colours() -> None:
    body = (
        "Deploy notes #release #db-migrations\n"
        "#include <stdio.h>\n"
        "color: #ffcc00; see https://wiki.acme.example/page#section and issue #42 &#8212;\n"
    )
    mail = parse_mail(_mail("From: a@acme.example\nSubject: [Ops] [EXTERNAL] notes", body))
    assert mail.tags == ("ops", "release", "db-migrations")


def test_tags_are_capped() -> None:
    body = " ".join(f"#tag{number}" for number in range(30))
    assert len(parse_mail(_mail("From: a@acme.example\nSubject: many", body), max_tags=5).tags) == 5


@pytest.mark.parametrize(
    ("headers", "subject", "expected"),
    [
        ("X-Priority: 5 (Lowest)", "weekly digest", Importance.LOW),
        ("X-Priority: 1 (Highest)", "weekly digest", Importance.HIGH),
        ("Importance: low", "URGENT: disk almost full", Importance.HIGH),
        ("Priority: urgent", "disk", Importance.HIGH),
        ("X-MSMail-Priority: Low", "disk", Importance.LOW),
        ("X-Mailer: test", "production outage in eu-west", Importance.HIGH),
        ("X-Priority: 1", "calm down !low", Importance.LOW),  # an explicit marker wins
        ("X-Mailer: test", "plain note", Importance.NORMAL),
    ],
)
def test_importance(headers: str, subject: str, expected: Importance) -> None:
    data = _mail(f"From: a@acme.example\n{headers}\nSubject: {subject}", "text")
    assert parse_mail(data).importance is expected


def test_text_attachments_share_a_budget() -> None:
    boundary = "b1"
    parts = "".join(
        f'--{boundary}\nContent-Type: text/plain; name="{name}"\n'
        f'Content-Disposition: attachment; filename="{name}"\n\n{content}\n'
        for name, content in [("a.log", "A" * 80), ("b.csv", "x,y\n" + "1,2\n" * 10), ("c.md", "# notes")]
    )
    body = f"--{boundary}\nContent-Type: text/plain\n\nsee attachments\n{parts}--{boundary}--\n"
    data = _mail(
        "From: a@acme.example\nSubject: logs", body, content_type=f'multipart/mixed; boundary="{boundary}"'
    )
    mail = parse_mail(data, attachment_text_chars=100)
    texts = {item.filename: item.text for item in mail.attachments}
    assert list(texts) == ["a.log", "b.csv", "c.md"]
    assert texts["a.log"] == "A" * 80
    assert texts["b.csv"] is not None
    assert texts["b.csv"].startswith("x,y") and texts["b.csv"].endswith("[... truncated]")
    assert texts["c.md"] is None  # budget spent
    assert parse_mail(data, attachment_text_chars=0).attachments[0].text is None


def test_rfc2231_attachment_names() -> None:
    body = (
        "--b\nContent-Type: text/plain\n\nhi\n"
        "--b\nContent-Type: application/pdf\n"
        "Content-Disposition: attachment; filename*=utf-8''Pr%C3%A9sentation%20Q1.pdf\n\nJVBERi0=\n--b--\n"
    )
    mail = parse_mail(
        _mail("From: a@acme.example\nSubject: deck", body, content_type='multipart/mixed; boundary="b"')
    )
    assert [item.filename for item in mail.attachments] == ["Présentation Q1.pdf"]


def test_broken_multipart_boundary_is_salvaged() -> None:
    body = (
        "--real\nContent-Type: text/plain; charset=utf-8\n\nThe VPN moved to vpn2.acme.example.\n"
        "--real\nContent-Type: text/html\n\n<p>The VPN moved to vpn2.acme.example.</p>\n--real--\n"
    )
    data = _mail(
        "From: a@acme.example\nSubject: vpn", body, content_type='multipart/alternative; boundary="declared"'
    )
    assert parse_mail(data).body == "The VPN moved to vpn2.acme.example."


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"   \r\n\r\n",
        b"\x00\x01\x02\x03\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4,
        b"From: a@acme.example\r\nSubject: \r\n\r\n\r\n",
    ],
)
def test_malformed_beyond_repair(data: bytes) -> None:
    with pytest.raises(MalformedMail):
        parse_mail(data)


def test_headerless_text_is_still_remembered() -> None:
    mail = parse_mail(b"The standup moves to 9:30 from next week.\n")
    assert mail.body == "The standup moves to 9:30 from next week."
    assert mail.author is None


def test_future_and_ancient_dates_are_not_kept() -> None:
    future = (datetime.now(UTC) + timedelta(days=30)).strftime("%a, %d %b %Y %H:%M:%S +0000")
    assert parse_mail(_mail(f"From: a@acme.example\nSubject: s\nDate: {future}", "x y z")).date is None
    assert (
        parse_mail(_mail("From: a@acme.example\nSubject: s\nDate: Thu, 1 Jan 1970 00:00:00 +0000", "x")).date
        is None
    )


def test_every_corpus_message_parses_or_is_refused_as_malformed(shared_data: Path) -> None:
    messages = corpus(shared_data)
    assert len(messages) >= 160
    parsed = 0
    for name, data in messages:
        try:
            mail = parse_mail(data)
        except MalformedMail:
            continue
        parsed += 1
        text = memory_text(mail, max_chars=16_000)
        assert text.strip(), name
        assert "\ufffd" not in mail.title, name
        assert not any("\udc80" <= ch <= "\udcff" for ch in text + mail.title + (mail.author or "")), name
    assert parsed >= len(messages) - 5


_SEEDS = [
    fixture_bytes(name) for name in ("gmail_forward.eml", "outlook_forward.eml", "thunderbird_attached.eml")
]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.sampled_from(_SEEDS),
    cuts=st.lists(st.tuples(st.integers(0, 6000), st.integers(0, 300), st.binary(max_size=40)), max_size=6),
)
def test_mangled_mail_never_crashes_the_parser(seed: bytes, cuts: list[tuple[int, int, bytes]]) -> None:
    data = bytearray(seed)
    for start, length, replacement in cuts:
        data[start : start + length] = replacement
    try:
        mail = parse_mail(bytes(data))
    except MalformedMail:
        return
    assert isinstance(memory_text(mail, max_chars=2000), str)


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=3000))
def test_arbitrary_bytes_never_crash_the_parser(data: bytes) -> None:
    with contextlib.suppress(MalformedMail):
        parse_mail(data)


def test_supersedes_is_read_from_the_senders_words_only() -> None:
    plain = parse_mail(
        b"From: bob@acme.example\r\nSubject: [ops] Paging supersedes:#12\r\n\r\n"
        b"We page through PagerDuty now.\r\n    indented: kept as it was\r\n"
    )
    assert plain.supersedes == (12,)
    assert plain.title == "Paging"
    assert memory_draft(plain, recipients=[], max_chars=1000, max_tags=5).supersedes == 12
    in_body = parse_mail(
        b"From: bob@acme.example\r\nSubject: Paging\r\n\r\nPagerDuty it is. supersedes:#7.\r\n"
    )
    assert in_body.supersedes == (7,) and "supersedes" not in in_body.body
    # In a forwarded mail only the forwarder's note counts: the forwarded text is somebody else's.
    forward = parse_mail(
        b"From: bob@acme.example\r\nSubject: Fwd: Paging\r\n\r\nKeep this.\r\n\r\n"
        b"---------- Forwarded message ---------\r\nFrom: Alice <alice@acme.example>\r\n"
        b"Date: Tue, Mar 3, 2026 at 5:41 PM\r\nSubject: Paging\r\n\r\n"
        b"PagerDuty from April. supersedes:#5\r\n"
    )
    assert forward.supersedes == ()
    assert "supersedes:#5" in forward.body
    noted = parse_mail(
        b"From: bob@acme.example\r\nSubject: Fwd: Paging\r\n\r\nKeep this. supersedes:#5\r\n\r\n"
        b"---------- Forwarded message ---------\r\nFrom: Alice <alice@acme.example>\r\n"
        b"Date: Tue, Mar 3, 2026 at 5:41 PM\r\nSubject: Paging\r\n\r\nPagerDuty from April.\r\n"
    )
    assert noted.supersedes == (5,) and noted.note == "Keep this."
    # Words that only look alike are not markers.
    assert (
        parse_mail(b"From: b@a.example\r\nSubject: x\r\n\r\nIt supersedes:#12a and #12.\r\n").supersedes == ()
    )


def test_two_supersedes_in_one_mail_is_invalid() -> None:
    mail = parse_mail(b"From: b@a.example\r\nSubject: x supersedes:#1\r\n\r\nsupersedes:#2 y\r\n")
    assert mail.supersedes == (1, 2)
    with pytest.raises(InvalidInput, match="supersedes:#1 and supersedes:#2"):
        memory_draft(mail, recipients=[], max_chars=1000, max_tags=5)
