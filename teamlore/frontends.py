"""Which front-ends run, and how each is built from its settings section: the wiring, nothing more."""

from __future__ import annotations

from memory_core import MemoryCore

from .runtime import Frontend
from .settings import Settings

__all__ = ["build_all"]


def build_all(core: MemoryCore, settings: Settings, parts: set[str]) -> list[Frontend]:
    """One Frontend per front-end, enabled when its credentials are set and --only allows it."""
    return [
        Frontend(
            "web",
            "web" in parts,
            f"http://{settings.http.host}:{settings.http.port}" if "web" in parts else "not in --only",
        ),
    ]
