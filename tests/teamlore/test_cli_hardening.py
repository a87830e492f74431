"""Issue #14 on the CLI: every field × the five secret shapes, refused or (with --redact) redacted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from teamlore.cli import app
from tests.secret_shapes import CASE_IDS, CASES, SECRETS, carrying, leaked

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"TEAMLORE_DATA_DIR": str(tmp_path / "data"), "TEAMLORE_CORE__EMBEDDING_MODEL": "test-hashing"}


def _store_args(field: str, secret: str) -> list[str]:
    text = carrying(secret) if field == "text" else "the staging deploy moved to Tuesdays"
    args = ["store", text, "--tag", "ops"]
    if field == "tags":
        args += ["--tag", secret]
    elif field in ("title", "author"):
        args += [f"--{field}", carrying(secret)]
    return args


def _import_line(secret: str) -> str:
    record = {
        "id": 7,
        "text": "the staging deploy moved to Tuesdays",
        "source_ref": carrying(secret),
        "created_at": "2026-01-01T00:00:00Z",
    }
    return json.dumps(record) + "\n"


@pytest.mark.parametrize(("field", "name"), CASES, ids=CASE_IDS)
def test_cli_refuses_or_redacts_a_secret_in_every_field(
    env: dict[str, str], tmp_path: Path, field: str, name: str
) -> None:
    secret = SECRETS[name]
    if field == "source_ref":  # the CLI takes a source reference only from an export file
        dump = tmp_path / "in.jsonl"
        dump.write_text(_import_line(secret))
        refused = runner.invoke(app, ["import", str(dump)], env=env)
        assert refused.exit_code == 1 and "source reference looks like it contains a secret" in refused.stderr
    else:
        refused = runner.invoke(app, _store_args(field, secret), env=env)
        assert refused.exit_code == 1 and "looks like it contains a secret" in refused.stderr, refused.output
        stored = runner.invoke(app, [*_store_args(field, secret), "--redact", "--json"], env=env)
        assert stored.exit_code == 0, stored.output
        assert json.loads(stored.stdout)["redacted"]
        assert not leaked(secret, stored.stdout, stored.stderr)
    assert not leaked(secret, refused.stdout, refused.stderr)
    dumped = runner.invoke(app, ["export"], env=env)
    tags = runner.invoke(app, ["tags", "--json"], env=env)
    assert not leaked(secret, dumped.stdout, tags.stdout)


@pytest.mark.parametrize("text", ["\x00", "ok\x1b[2J", "\u200b\u200f", "\ud800"])
def test_cli_refuses_bad_characters_with_a_clear_error(env: dict[str, str], text: str) -> None:
    for args in (["store", text], ["store", "fine text", "--title", "x" + text], ["query", text]):
        if args[0] == "store" and args[1] == "fine text" and not text.strip("\u200b\u200f"):
            continue  # an invisible title is simply no title
        result = runner.invoke(app, args, env=env)
        assert result.exit_code == 1, (args, result.output)
        assert "error:" in result.stderr and "Traceback" not in result.output
