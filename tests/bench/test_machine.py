"""What every benchmark section shares: the machine line (with the engine's SQLite), the model cache."""

from __future__ import annotations

import importlib.util
import sqlite3
from pathlib import Path

import pytest

from bench.cache import DEFAULT_CACHE_DIR, model_cache_dir
from bench.machine import machine_facts
from bench.report import machine_line


def test_machine_line_names_both_sqlites_when_pysqlite3_is_there() -> None:
    facts = machine_facts()
    assert facts["sqlite"] == sqlite3.sqlite_version
    line = machine_line(facts)
    if importlib.util.find_spec("pysqlite3") is None:
        assert facts["sqlite_pysqlite3"] is None and "pysqlite3" not in line
    else:
        import pysqlite3.dbapi2 as dbapi2  # type: ignore[import-not-found, unused-ignore]

        assert f"(pysqlite3: SQLite {dbapi2.sqlite_version})" in line
    # Results written before the field existed still render.
    old = {k: v for k, v in facts.items() if k != "sqlite_pysqlite3"}
    assert f"SQLite {sqlite3.sqlite_version}, " in machine_line(old)


def test_model_cache_dir_prefers_the_choice_then_the_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TEAMLORE_CORE__MODEL_CACHE_DIR", raising=False)
    assert model_cache_dir() == DEFAULT_CACHE_DIR / "models"
    monkeypatch.setenv("TEAMLORE_CORE__MODEL_CACHE_DIR", str(tmp_path / "env"))
    assert model_cache_dir() == tmp_path / "env"
    assert model_cache_dir(tmp_path / "chosen") == tmp_path / "chosen"
