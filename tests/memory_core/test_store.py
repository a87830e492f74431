"""Storing: validation, duplicates, near-duplicates, credentials, redaction, supersedes."""

from __future__ import annotations

import pytest

from memory_core import (
    CredentialDetected,
    InvalidInput,
    MemoryCore,
    NotFound,
    Source,
    TooLarge,
)
from memory_core.testing import draft

pytestmark = pytest.mark.anyio


async def test_store_returns_the_memory_with_every_field(core: MemoryCore) -> None:
    result = await core.store(
        "default",
        draft(
            "We chose PostgreSQL for billing.",
            tags=["#DB", "billing", "db"],
            kind="decision",
            source=Source.SLACK,
            source_ref="https://x.slack.com/archives/C1/p1",
            title="Billing DB",
        ),
    )
    memory = result.memory
    assert result.created and result.duplicate_of is None
    assert memory.id > 0 and memory.ref == f"#{memory.id}"
    assert memory.tags == ("db", "billing")
    assert memory.kind == "decision"
    assert memory.source is Source.SLACK
    assert memory.author == "alice" and memory.author_id == "cli:alice"
    assert memory.created_at.tzinfo is not None
    assert memory.embedding_model == "test-hashing-384"
    assert len(memory.content_hash) == 64
    assert await core.get("default", memory.id) == memory


async def test_exact_duplicate_answers_the_existing_id(core: MemoryCore) -> None:
    first = await core.store("default", draft("The VPN moved to vpn2.corp"))
    again = await core.store("default", draft("  the vpn   MOVED to VPN2.corp "))
    assert not again.created
    assert again.duplicate_of == first.id == again.id
    assert (await core.stats("default")).memories == 1


async def test_same_text_in_another_tenant_is_not_a_duplicate(core: MemoryCore) -> None:
    a = await core.store("alpha", draft("Shared sentence"))
    b = await core.store("beta", draft("Shared sentence"))
    assert a.created and b.created and a.id != b.id


async def test_near_duplicates_are_reported_not_merged(core: MemoryCore) -> None:
    first = await core.store("default", draft("deploys happen on tuesday and thursday after standup"))
    second = await core.store("default", draft("deploys happen on tuesday and thursday after the standup"))
    assert second.created
    assert first.id in second.near_duplicates
    assert (await core.stats("default")).memories == 2


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("aws key AKIAIOSFODNN7EXAMPLE for the backup bucket", "AWS access key"),
        ("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "AWS secret key"),
        ("use xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx for the bot", "Slack token"),
        ("token ghp_0123456789abcdefghijABCDEFGHIJ012345 works", "GitHub token"),
        (
            "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAA\n-----END OPENSSH PRIVATE KEY-----",
            "private key",
        ),
        ("the staging db password=Sup3rS3cret!", "password"),
        ("connect with postgres://app:hunter2@db.internal/app", "password in URL"),
        ("google key AIzaSyA-1234567890abcdefghijklmnopqrstu", "Google API key"),
    ],
)
async def test_credentials_are_refused_with_the_reason(core: MemoryCore, text: str, kind: str) -> None:
    with pytest.raises(CredentialDetected) as caught:
        await core.store("default", draft(text))
    assert kind in caught.value.kinds
    assert kind in str(caught.value)
    assert "secret" in str(caught.value)
    assert (await core.stats("default")).memories == 0


async def test_credentials_are_redacted_on_request(core: MemoryCore) -> None:
    result = await core.store("default", draft("the staging db password=Sup3rS3cret! ok"), redact=True)
    assert "Sup3rS3cret" not in result.memory.text
    assert "[REDACTED:password]" in result.memory.text
    assert result.redacted == ("password",)


async def test_talking_about_passwords_is_fine(core: MemoryCore) -> None:
    result = await core.store("default", draft("We rotate the office Wi-Fi password monthly; ask IT for it."))
    assert result.created


async def test_empty_and_oversized_text_are_refused(core: MemoryCore) -> None:
    with pytest.raises(InvalidInput, match="empty"):
        await core.store("default", draft("   "))
    with pytest.raises(TooLarge) as caught:
        await core.store("default", draft("x" * 20_001))
    assert caught.value.limit == 20_000
    assert (await core.stats("default")).memories == 0


async def test_bad_tenant_names_are_refused(core: MemoryCore) -> None:
    for tenant in ("", "UPPER", "has space", "../etc", "x" * 65):
        with pytest.raises(InvalidInput, match="tenant"):
            await core.store(tenant, draft("hello"))


async def test_supersedes_links_both_ways(core: MemoryCore) -> None:
    old = await core.store("default", draft("We deploy with Jenkins.", kind="decision"))
    new = await core.store(
        "default", draft("We deploy with GitHub Actions now.", kind="decision", supersedes=old.id)
    )
    assert new.memory.supersedes == old.id
    assert (await core.get("default", old.id)).superseded_by == new.id


async def test_supersedes_an_unknown_id_is_refused(core: MemoryCore) -> None:
    other = await core.store("other", draft("elsewhere"))
    with pytest.raises(NotFound):
        await core.store("default", draft("replacement", supersedes=other.id))


async def test_store_many_validates_everything_first(core: MemoryCore) -> None:
    with pytest.raises(CredentialDetected):
        await core.store_many("default", [draft("fine one"), draft("password=hunter2hunter2")])
    assert (await core.stats("default")).memories == 0


async def test_store_many_reports_duplicates_inside_and_outside_the_batch(core: MemoryCore) -> None:
    existing = await core.store("default", draft("already here"))
    results = await core.store_many(
        "default", [draft("one"), draft("Already here"), draft("two"), draft("ONE")]
    )
    assert [r.created for r in results] == [True, False, True, False]
    assert results[1].duplicate_of == existing.id
    assert results[3].duplicate_of == results[0].id
    seen: list[tuple[int, int]] = []
    await core.store_many(
        "default", [draft(f"fact {i}") for i in range(300)], on_progress=lambda d, t: seen.append((d, t))
    )
    assert seen[-1] == (300, 300)
    assert (await core.stats("default")).memories == 303
