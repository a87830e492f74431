"""Issue #14 on chat (Slack, Discord, `teamlore shell`): every field × the five secret shapes is refused."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bots import execute, parse
from bots.replies import ErrorReply
from memory_core import Actor, MemoryCore, Source
from tests.secret_shapes import CASE_IDS, CASES, SECRETS, carrying, leaked

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(("field", "name"), CASES, ids=CASE_IDS)
async def test_chat_refuses_a_secret_in_every_field(core: MemoryCore, field: str, name: str) -> None:
    secret = SECRETS[name]
    text = carrying(secret) if field == "text" else "the staging deploy moved to Tuesdays"
    line = f"/store {text} #ops" + (f" #{secret}" if field == "tags" else "")
    command = parse(line, now=datetime.now(UTC))
    # Which chat field carries what: a person's display name is the author, the message's permalink the
    # source_ref, a shortcut's title the title.
    actor = Actor(id="slack:T1:U1", name=carrying(secret) if field == "author" else "alice")
    reply = await execute(
        core,
        "default",
        actor,
        command,
        source=Source.SLACK,
        source_ref=carrying(secret) if field == "source_ref" else "https://acme.slack.com/p1",
        title=carrying(secret) if field == "title" else None,
    )
    if (
        field == "tags" and " " in secret
    ):  # "#-----BEGIN PRIVATE KEY-----" is no hashtag: the key stays in the text
        assert isinstance(reply, ErrorReply) and "the text looks like it contains a secret" in reply.message
    else:
        assert isinstance(reply, ErrorReply), reply
        assert "looks like it contains a secret" in reply.message and reply.message.startswith(
            "Can't store that:"
        )
    assert not leaked(secret, reply.message)
    assert await core.recent("default") == []
