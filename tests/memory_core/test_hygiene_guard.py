"""Issue #14 in the core: one credential guard on every field, and the value types' character/number rules."""

from __future__ import annotations

from typing import Any

import pytest

from memory_core import (
    Actor,
    CredentialDetected,
    ExportRecord,
    InvalidInput,
    MemoryCore,
    MemoryDraft,
    MemoryPatch,
    QueryFilters,
    check_number,
    error_code,
)
from memory_core.testing import draft
from tests.secret_shapes import CASE_IDS, CASES, SECRETS, carrying, leaked

pytestmark = pytest.mark.anyio

ALICE = Actor(id="cli:alice", name="alice")


def _fields(field: str, secret: str) -> dict[str, Any]:
    """Draft fields that put `secret` in `field` (a tag carries the bare secret: tags are short)."""
    if field == "tags":
        return {"tags": ["ops", secret]}
    if field == "text":
        return {"text": carrying(secret)}
    return {field: carrying(secret)}


def _draft(field: str, secret: str) -> MemoryDraft:
    fields = _fields(field, secret)
    return draft(fields.pop("text", "the staging deploy moved to Tuesdays"), **fields)


def _stored_values(memory: Any) -> list[object]:
    return [memory.text, memory.title, memory.author, memory.source_ref, *memory.tags]


@pytest.mark.parametrize(("field", "name"), CASES, ids=CASE_IDS)
async def test_store_refuses_a_secret_in_any_field(core: MemoryCore, field: str, name: str) -> None:
    with pytest.raises(CredentialDetected) as refused:
        await core.store("default", _draft(field, SECRETS[name]))
    assert not leaked(SECRETS[name], str(refused.value))
    assert "looks like it contains a secret" in str(refused.value)
    assert await core.recent("default") == []


@pytest.mark.parametrize(("field", "name"), CASES, ids=CASE_IDS)
async def test_store_redacts_a_secret_in_any_field(core: MemoryCore, field: str, name: str) -> None:
    result = await core.store("default", _draft(field, SECRETS[name]), redact=True)
    assert result.created and result.redacted
    stored = await core.get("default", result.id)
    assert not leaked(SECRETS[name], *_stored_values(stored))
    if field == "tags":
        assert stored.tags == ("ops",)  # the tag holding the secret is dropped, the others kept


@pytest.mark.parametrize(("field", "name"), CASES, ids=CASE_IDS)
async def test_store_many_and_import_guard_every_field(core: MemoryCore, field: str, name: str) -> None:
    secret = SECRETS[name]
    with pytest.raises(CredentialDetected):
        await core.store_many("default", [draft("a harmless note"), _draft(field, secret)])
    bad = _draft(field, secret)
    record = ExportRecord(id=90, created_at="2026-01-01T00:00:00Z", **bad.model_dump(exclude={"created_at"}))
    with pytest.raises(CredentialDetected):
        await core.import_("default", [record])
    assert await core.recent("default") == []  # nothing of either call was written
    (imported,) = await core.import_("default", [record], redact=True)
    assert not leaked(secret, *_stored_values(await core.get("default", imported.id)))


@pytest.mark.parametrize(("field", "name"), [c for c in CASES if c[0] in ("text", "title", "tags")])
async def test_update_refuses_a_secret_in_text_title_or_tags(core: MemoryCore, field: str, name: str) -> None:
    stored = await core.store("default", draft("the staging deploy moved to Tuesdays", title="deploys"))
    patch = MemoryPatch(**_fields(field, SECRETS[name]))
    with pytest.raises(CredentialDetected):
        await core.update("default", stored.id, patch, actor=ALICE)
    assert not leaked(SECRETS[name], *_stored_values(await core.get("default", stored.id)))


async def test_one_message_names_the_field_and_kind_never_the_secret(core: MemoryCore) -> None:
    with pytest.raises(CredentialDetected) as refused:
        await core.store("default", draft("release notes", title=carrying(SECRETS["github"])))
    assert str(refused.value) == (
        "the title looks like it contains a secret (GitHub token); remove it, or store it redacted"
    )
    assert error_code(refused.value) == "credential_detected"


async def test_a_secret_typed_into_a_query_is_not_kept_or_quoted(core: MemoryCore) -> None:
    await core.store("default", draft("the VPN moved to vpn2.corp"))
    question = f"why does {SECRETS['github']} not work"
    await core.query("default", question)
    await core.query("default", question)
    report = await core.quality_report("default", save=False)
    assert not leaked(SECRETS["github"], report.model_dump_json())
    gaps = [f for f in report.findings if f.kind == "knowledge_gap"]
    assert gaps and "[REDACTED:GitHub token]" in gaps[0].message


# --- characters and numbers: the value types ---------------------------------------------------------

BAD_TEXTS = [
    ("\ud800", "surrogate"),
    ("a\udfffb", "surrogate"),
    ("\x00", "U\\+0000"),
    ("ok\x00then", "U\\+0000"),
    ("bell\x07", "U\\+0007"),
    ("esc\x1b[31m", "U\\+001B"),
    ("c1\x85", "U\\+0085"),
    ("   ", "empty"),
    ("\u200b\u200f\u2060", "no visible character"),
    ("\u202e\u200d", "no visible character"),
]


@pytest.mark.parametrize(("text", "reason"), BAD_TEXTS)
async def test_bad_characters_are_a_clear_invalid_input(core: MemoryCore, text: str, reason: str) -> None:
    with pytest.raises(InvalidInput, match=reason):
        MemoryDraft(text=text)
    if reason not in ("empty", "no visible character"):  # a blank title is simply no title
        with pytest.raises(InvalidInput, match=reason):
            MemoryDraft(text="fine", title="x" + text)
        with pytest.raises(InvalidInput, match=reason):
            MemoryDraft(text="fine", tags=["x" + text])
    with pytest.raises(InvalidInput):
        await core.query("default", text)
    assert await core.recent("default") == []


@pytest.mark.parametrize("field", ["title", "author", "source_ref", "author_id"])
async def test_every_optional_field_follows_the_same_rule(field: str) -> None:
    with pytest.raises(InvalidInput, match=field):
        MemoryDraft(text="fine", **{field: "x\ud800"})
    with pytest.raises(InvalidInput, match="U\\+0000"):
        MemoryDraft(text="fine", **{field: "x\x00"})
    assert getattr(MemoryDraft(text="fine", **{field: " \u200b "}), field) is None  # blank: not given


async def test_filters_and_patches_take_the_same_rule() -> None:
    with pytest.raises(InvalidInput):
        QueryFilters(author="\ud800")
    with pytest.raises(InvalidInput):
        QueryFilters(tags=["a\x00"])
    with pytest.raises(InvalidInput):
        MemoryPatch(title="\x1b]0;pwned\x07")
    with pytest.raises(InvalidInput):
        MemoryPatch(text="\x00")


async def test_ordinary_unicode_is_kept(core: MemoryCore) -> None:
    text = "Déploiement 🚀 שלום \u200fمرحبا\u200e ok\ttab\r\nnext line " + "x" * 10_000
    stored = await core.store("default", draft(text, title="emoji 🚀 title"))
    memory = await core.get("default", stored.id)
    assert memory.text == text.replace("\r\n", "\n").strip()
    assert memory.title == "emoji 🚀 title"


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
async def test_nan_and_infinity_are_refused_where_a_number_is_taken(core: MemoryCore, value: float) -> None:
    with pytest.raises(InvalidInput, match="finite"):
        check_number(value, "ttl_days")
    with pytest.raises(InvalidInput):
        await core.query("default", "anything", limit=value)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="finite"):
        MemoryDraft(text="x", supersedes=value)  # type: ignore[arg-type]


async def test_a_tag_with_a_space_is_one_tag_everywhere(core: MemoryCore) -> None:
    stored = await core.store("default", draft("pager rota", tags=["on call", "#Night  Shift"]))
    memory = await core.get("default", stored.id)
    assert memory.tags == ("on-call", "night-shift")
    assert [t.tag for t in await core.list_tags("default")] == ["night-shift", "on-call"]
    hits = await core.query("default", "pager rota", filters=QueryFilters(tags=["on call"]))
    assert [h.memory.id for h in hits] == [stored.id]


async def test_a_tag_over_the_limit_is_invalid_input() -> None:
    with pytest.raises(InvalidInput, match="at most 64"):
        MemoryDraft(text="x", tags=["t" * 65])


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (InvalidInput("x"), "invalid_input"),
        (CredentialDetected(["AWS access key"]), "credential_detected"),
        (ValueError("x"), "internal"),
    ],
)
def test_every_error_class_has_a_wire_code(error: BaseException, code: str) -> None:
    assert error_code(error) == code
