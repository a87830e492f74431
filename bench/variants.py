"""The search settings compared in the ablation tables: the defaults, and each stage switched off."""

from __future__ import annotations

from memory_core import SearchSettings

__all__ = ["VARIANTS"]

VARIANTS: dict[str, SearchSettings] = {
    "default": SearchSettings(),
    "without conversation context": SearchSettings(context_weight=0),
    "without date understanding": SearchSettings(date_boost=0),
    "score fusion only (no dates, no context)": SearchSettings(context_weight=0, date_boost=0),
    "best keyword hit counts in full, linear cosine": SearchSettings(keyword_coverage=0, vector_exponent=1),
    "previous default: RRF k=60, equal weights": SearchSettings(
        fusion="rrf", vector_weight=1.0, keyword_weight=1.0, context_weight=0, date_boost=0
    ),
}
