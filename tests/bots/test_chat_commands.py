"""Parsed chat commands run against the real core (SQLite, FAISS, hashing embedder)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest

from bots import execute, parse
from bots.grammar import ForgetCommand, HelpCommand, StoreCommand
from bots.replies import (
    ErrorReply,
    ForgottenReply,
    HelpReply,
    QueryReply,
    RecentReply,
    ReflectionReply,
    StoredReply,
)
from memory_core import Actor, Importance, MemoryCore, Source

pytestmark = pytest.mark.anyio


ALICE = Actor(id="discord:1", name="alice")
BOB = Actor(id="discord:2", name="bob")
ADMIN = Actor(id="discord:3", name="mod", is_admin=True)


async def run(core: MemoryCore, line: str, actor: Actor = ALICE, **kwargs: object) -> object:
    command = parse(line, now=datetime.now(UTC))
    return await execute(core, "default", actor, command, source=Source.DISCORD, **kwargs)  # type: ignore[arg-type]


async def test_store_then_query_finds_it_with_author_and_link(core: MemoryCore) -> None:
    stored = await run(
        core, "/store the VPN moved to vpn2.corp #infra !high ttl:30d", source_ref="https://x/1"
    )
    assert isinstance(stored, StoredReply)
    memory = stored.memory
    assert stored.result.created
    assert (memory.text, memory.tags, memory.importance) == (
        "the VPN moved to vpn2.corp",
        ("infra",),
        Importance.HIGH,
    )
    assert (memory.author, memory.author_id, memory.source) == ("alice", "discord:1", Source.DISCORD)
    assert memory.source_ref == "https://x/1"
    assert memory.expires_at is not None
    assert timedelta(days=29) < memory.expires_at - datetime.now(UTC) <= timedelta(days=30)

    answer = await run(core, "/query where did the VPN move? #infra from:@alice")
    assert isinstance(answer, QueryReply)
    assert [hit.memory.id for hit in answer.hits] == [memory.id]


async def test_same_text_twice_names_the_existing_id(core: MemoryCore) -> None:
    first = await run(core, "/store deploys happen on Tuesdays")
    second = await run(core, "/store deploys happen on Tuesdays #ops", actor=BOB)
    assert isinstance(first, StoredReply)
    assert isinstance(second, StoredReply)
    assert not second.result.created
    assert second.memory.id == first.memory.id


async def test_query_without_question_lists_newest_matching(core: MemoryCore) -> None:
    await run(core, "/store first infra fact #infra")
    await run(core, "/store unrelated fact #hr")
    await run(core, "/store second infra fact #infra")
    answer = await run(core, "/query #infra limit:5")
    assert isinstance(answer, RecentReply)
    assert [m.text for m in answer.memories] == ["second infra fact", "first infra fact"]
    assert answer.described == "tagged #infra"


async def test_forget_by_author_admin_and_refusal(core: MemoryCore) -> None:
    stored = await run(core, "/store alice's note about the printer")
    assert isinstance(stored, StoredReply)
    memory_id = stored.memory.id

    refused = await run(core, f"/forget #{memory_id}", actor=BOB)
    assert isinstance(refused, ErrorReply)
    assert refused.message.startswith("Not allowed:")
    assert refused.ref is None

    forgotten = await run(core, f"/forget #{memory_id}", actor=ALICE)
    assert forgotten == ForgottenReply(memory_id, "alice's note about the printer")
    again = await run(core, f"/forget #{memory_id}", actor=ADMIN)
    assert again == ErrorReply(f"No memory #{memory_id}.")

    other = await run(core, "/store bob's note", actor=BOB)
    assert isinstance(other, StoredReply)
    assert isinstance(await run(core, f"/forget #{other.memory.id}", actor=ADMIN), ForgottenReply)


async def test_core_refusals_become_replies(core: MemoryCore) -> None:
    secret = await run(core, "/store the key is AKIAIOSFODNN7EXAMPLE")
    assert isinstance(secret, ErrorReply)
    assert secret.message.startswith("Can't store that: the text looks like it contains a secret")


async def test_saved_message_keeps_its_writer(core: MemoryCore) -> None:
    reply = await execute(
        core, "default", BOB, StoreCommand("alice wrote this"), source=Source.DISCORD, author=ALICE
    )
    assert isinstance(reply, StoredReply)
    assert (reply.memory.author, reply.memory.author_id) == ("alice", "discord:1")


async def test_help_needs_no_core(core: MemoryCore) -> None:
    assert await execute(core, "default", ALICE, HelpCommand("store"), source=Source.CLI) == HelpReply(
        "store"
    )


async def test_unexpected_errors_get_a_reference_id_in_reply_and_log(
    core: MemoryCore, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.INFO, logger="bots")
    reply = await execute(core, "Bad Tenant!", ALICE, ForgetCommand(1), source=Source.CLI)
    assert isinstance(reply, ErrorReply)
    assert reply.message.startswith("Can't forget that: invalid tenant name")

    async def disk_on_fire(tenant: str, memory_id: int) -> None:
        raise OSError("disk on fire")

    monkeypatch.setattr(core, "get", disk_on_fire)  # a failure no table row describes
    broken = await execute(core, "default", ALICE, ForgetCommand(1), source=Source.CLI)
    assert isinstance(broken, ErrorReply)
    assert broken.ref is not None
    assert broken.message == f"Something went wrong (ref {broken.ref})."
    assert any(broken.ref in record.getMessage() and record.exc_info for record in caplog.records)
    assert any("cli forget by discord:1" in record.getMessage() for record in caplog.records)


async def test_reflect_cites_the_stored_memories(core: MemoryCore) -> None:
    for line in (
        "/store the VPN moved to vpn2.corp #infra",
        "/store the old VPN host vpn1.corp is switched off #infra",
        "/store VPN access needs the new client version 5 #infra",
    ):
        assert isinstance(await run(core, line), StoredReply)
    reply = await run(core, "/reflect VPN #infra")
    assert isinstance(reply, ReflectionReply)
    assert reply.reflection.sources
    assert {m.id for m in reply.sources} == set(reply.reflection.sources)
