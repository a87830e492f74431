"""The context packer on its own: ordering, the budget, cutting the last line, the token estimate."""

from __future__ import annotations

from datetime import UTC, datetime

from mcp_server.assemble import assemble_context, estimate_tokens, memory_line
from memory_core import Importance, Memory
from memory_core.testing import make_memory


def memory(memory_id: int, text: str, **fields: object) -> Memory:
    fields = {"tags": (), "created_at": datetime(2026, 1, 3, 9, 0, tzinfo=UTC), **fields}
    return make_memory(memory_id, text, **fields)


def test_the_estimate_is_characters_over_four_rounded_up() -> None:
    assert [estimate_tokens(t) for t in ("", "abc", "abcd", "abcde")] == [0, 1, 1, 2]


def test_a_line_names_id_kind_date_author_importance_and_tags_and_collapses_whitespace() -> None:
    line = memory_line(
        memory(
            42,
            "Use  vpn2.\n\nNot vpn1.",
            kind="decision",
            importance=Importance.HIGH,
            tags=("vpn", "infra"),
            title="VPN host",
        )
    )
    assert (
        line == "- #42 (decision; 2026-01-03; alice; high; tags: vpn, infra): VPN host: Use vpn2. Not vpn1."
    )


def test_memories_keep_their_order_and_all_fit_a_roomy_budget() -> None:
    block = assemble_context("vpn", [memory(3, "third"), memory(1, "first")], 1000)
    assert block.memory_ids == [3, 1] and block.omitted == 0
    assert block.context.index("#3") < block.context.index("#1")
    assert block.estimated_tokens == estimate_tokens(block.context)


def test_the_first_line_that_does_not_fit_is_cut_and_the_rest_left_out() -> None:
    memories = [memory(i, f"memory {i} " + "word " * 100) for i in range(1, 6)]
    block = assemble_context("task", memories, 200)
    assert len(block.context) <= 200 * 4 and block.estimated_tokens <= 200
    assert block.context.endswith("…")
    assert block.memory_ids == [1, 2]
    assert block.omitted == 4  # #2 cut short, #3..#5 left out


def test_a_sliver_of_room_is_not_filled_with_a_useless_fragment() -> None:
    header_only = assemble_context("task", [memory(1, "x")], 100).context.split("\n- ")[0]
    room = 100 * 4 - len(header_only)
    fits_but_leaves_little = memory(1, "y" * (room - 60))
    block = assemble_context("task", [fits_but_leaves_little, memory(2, "z" * 500)], 100)
    assert block.memory_ids == [1] and not block.context.endswith("…") and block.omitted == 1


def test_a_long_task_is_shortened_in_the_header() -> None:
    block = assemble_context("t" * 1000, [memory(1, "x")], 500)
    assert len(block.context.splitlines()[0]) < 250 and block.task == "t" * 1000
