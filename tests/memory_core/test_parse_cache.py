"""The conflict finder's parse cache: bounded by entries and characters, keyed by content."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

import memory_core._conflict_parse as parsing
import memory_core._conflicts as conflicts
from memory_core._conflicts import Statement, contradiction
from memory_core._parse_cache import ParseCache


def _made(log: list[str], value: str) -> str:
    log.append(value)
    return value


def test_the_least_recently_used_entry_goes_first() -> None:
    cache: ParseCache[str] = ParseCache(max_entries=2, max_chars=1_000)
    made: list[str] = []
    assert cache.get("a", 1, lambda: _made(made, "A")) == "A"
    assert cache.get("b", 1, lambda: _made(made, "B")) == "B"
    assert cache.get("a", 1, lambda: _made(made, "again")) == "A"  # a hit, and "a" is now the newest
    cache.get("c", 1, lambda: _made(made, "C"))
    assert made == ["A", "B", "C"]
    assert "a" in cache and "c" in cache and "b" not in cache
    assert len(cache) == 2


def test_the_characters_held_are_bounded_and_an_oversized_text_is_not_kept() -> None:
    cache: ParseCache[str] = ParseCache(max_entries=100, max_chars=10)
    for key in "abcd":
        cache.get(key, 4, lambda: "parsed")
    assert cache.chars <= 10 and len(cache) == 2 and "c" in cache and "d" in cache
    made: list[str] = []
    for _ in range(2):
        cache.get("huge", 11, lambda: _made(made, "huge"))
    assert made == ["huge", "huge"] and "huge" not in cache  # parsed each time, never kept
    assert "d" in cache  # and it pushed nothing out
    cache.clear()
    assert len(cache) == 0 and cache.chars == 0


def test_the_finder_caches_by_content_within_its_bounds() -> None:
    kinds = parsing.DEFAULT_TIMELINE_KINDS
    statement = Statement("Backups are kept for 35 days.", tags=("ops",))
    first = parsing.parse(statement, kinds)
    assert parsing.parse(Statement("Backups are kept for 35 days.", tags=("ops",)), kinds) is first
    # Another text, kind or tags is another entry: an edited memory is never read as its old text.
    edited = parsing.parse(Statement("Backups are kept for 14 days.", tags=("ops",)), kinds)
    assert edited is not first and edited.clauses[0].values["duration"] == {14 * 86400}
    assert parsing.parse(Statement("Backups are kept for 35 days.", kind="decision"), kinds) is not first
    assert parsing._PARSED.max_entries == 8192 and parsing._PARSED.max_chars == 1_000_000
    assert len(parsing._PARSED) <= 8192 and parsing._PARSED.chars <= 1_000_000


def test_a_cached_parse_gives_the_same_findings_as_a_fresh_one() -> None:
    older, newer = Statement("Deploys happen on Tuesdays."), Statement("Deploys happen on Thursdays.")
    parsing._PARSED.clear()
    fresh = contradiction(older, newer)
    cached = contradiction(older, newer)  # both parses come from the cache now
    assert fresh is not None and fresh == cached
    assert contradiction(Statement("Deploys happen on Thursdays."), newer) is None


def _canon_every_pair(a: set[str], b: set[str]) -> dict[str, str]:
    """The stem mapping as it was first written (every pair compared), to hold the faster one to it."""
    every = sorted(a | b, key=len)
    out: dict[str, str] = {}
    for word in every:
        for shorter in every:
            if 4 <= len(shorter) < len(word) <= len(shorter) + 4 and word.startswith(shorter):
                out[word] = out.get(shorter, shorter)
                break
        else:
            out[word] = word
    return out


# Words from few letters, so prefixes of one another (postgres / postgresql) come up often.
_WORDS = st.sets(st.text(alphabet="ab", min_size=1, max_size=12), max_size=25)


@given(_WORDS, _WORDS)
def test_canon_maps_stems_as_comparing_every_pair_did(a: set[str], b: set[str]) -> None:
    assert conflicts._canon(a, b) == _canon_every_pair(a, b)


def test_canon_maps_a_longer_stem_to_its_shortest_stored_prefix() -> None:
    canon = conflicts._canon
    assert canon({"postgresql"}, {"postgres"}) == {"postgres": "postgres", "postgresql": "postgres"}
    # "deploy" starts "deploymentx", which is more than 4 characters longer than it: no match.
    assert canon({"deploy"}, {"deploymentx"}) == {"deploy": "deploy", "deploymentx": "deploymentx"}
    assert canon({"pos"}, {"post"}) == {"pos": "pos", "post": "post"}  # under 4: never a stem
