"""A bounded, thread-safe LRU cache of the conflict finder's parses, bounded by entries and by text size.

The finder parses each memory's clauses (~0.3 ms for a 100-character text); a store compares its text
with its 10 nearest memories and a quality report compares each memory with many, so parses are reused.
Entries are keyed by what was parsed (the statement's text, kind and tags), never by a memory id: an
edited memory is a new key, and its old parse just ages out. A parse takes ~30-50 bytes per character
of text (measured with tracemalloc on LoCoMo-like memories), so the cache is bounded by the characters
it holds as well as by entries: `max_chars` = 1,000,000 keeps it under ~50 MB however long the texts
are (a text longer than that is parsed every time, not cached).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

__all__ = ["ParseCache"]

_V = TypeVar("_V")


class ParseCache(Generic[_V]):
    """Least recently used first out, once more than `max_entries` entries or `max_chars` characters."""

    def __init__(self, *, max_entries: int, max_chars: int) -> None:
        self.max_entries = max_entries
        self.max_chars = max_chars
        self._entries: OrderedDict[Hashable, tuple[_V, int]] = OrderedDict()
        self._chars = 0
        # Stores parse in worker threads while the quality report may parse in another.
        self._lock = threading.Lock()

    def get(self, key: Hashable, chars: int, make: Callable[[], _V]) -> _V:
        """The cached value for `key`, or `make()` (outside the lock) kept for next time."""
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
                return found[0]
        value = make()
        if chars > self.max_chars:
            return value
        with self._lock:
            if key not in self._entries:
                self._entries[key] = (value, chars)
                self._chars += chars
                while len(self._entries) > self.max_entries or self._chars > self.max_chars:
                    _, (_, size) = self._entries.popitem(last=False)
                    self._chars -= size
        return value

    def __contains__(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def chars(self) -> int:
        """Characters of text the cached entries were parsed from."""
        return self._chars

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._chars = 0
