"""The CLI: --json contracts, errors on stderr with a non-zero exit, export/import, progress, scale."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import anyio
import pytest
from typer.testing import CliRunner

from memory_core import ExportRecord
from teamlore.cli import app

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"TEAMLORE_DATA_DIR": str(tmp_path / "data"), "TEAMLORE_CORE__EMBEDDING_MODEL": "test-hashing"}


def cli(env: dict[str, str], *args: str, input: str | None = None):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args), env=env, input=input)


def test_store_json_reports_new_and_duplicate(env: dict[str, str]) -> None:
    first = cli(env, "store", "The VPN moved to vpn2.corp", "--tag", "infra", "--json")
    assert first.exit_code == 0, first.stderr
    assert json.loads(first.stdout) == {
        "id": 1,
        "duplicate_of": None,
        "near_duplicates": [],
        "redacted": [],
        "contradicts": [],
    }
    again = cli(env, "store", "the vpn moved to VPN2.corp", "--json")
    assert json.loads(again.stdout)["duplicate_of"] == 1


def test_query_json_has_the_documented_fields(env: dict[str, str]) -> None:
    cli(env, "store", "Deploys happen on Tuesdays", "-t", "release", "--importance", "high")
    cli(env, "store", "Lunch is at noon")
    result = cli(env, "query", "when are deploys", "--json", "--limit", "1")
    assert result.exit_code == 0, result.stderr
    (hit,) = json.loads(result.stdout)
    assert {"id", "text", "score", "tags", "source", "author", "created_at"} <= set(hit)
    assert (
        hit["text"] == "Deploys happen on Tuesdays" and hit["tags"] == ["release"] and hit["source"] == "cli"
    )
    filtered = cli(env, "query", "deploys lunch", "--tag", "release", "--json")
    assert [h["text"] for h in json.loads(filtered.stdout)] == ["Deploys happen on Tuesdays"]


def test_store_names_a_probable_contradiction_and_supersedes_replaces_it(env: dict[str, str]) -> None:
    cli(env, "store", "Backups are kept for 35 days.", "--author", "alice")
    warned = cli(env, "store", "Backups are kept for 14 days now.")
    assert "Remembered as #2" in warned.stderr
    assert "this may contradict #1 by alice on " in warned.stderr and "--supersedes 1" in warned.stderr
    as_json = json.loads(cli(env, "store", "Backups are kept 14 days from now on.", "--json").stdout)
    assert [c["id"] for c in as_json["contradicts"]] == [1] and as_json["contradicts"][0]["author"] == "alice"
    replaced = cli(env, "store", "Backups are kept for 14 days now.", "--supersedes", "1")
    assert "Already remembered as #2. It replaces #1." in replaced.stderr
    hits = json.loads(cli(env, "query", "how long are backups kept", "--json").stdout)
    assert 1 not in [h["id"] for h in hits]
    history = json.loads(
        cli(env, "query", "how long are backups kept", "--json", "--include-superseded").stdout
    )
    assert {h["id"]: h["superseded_by"] for h in history}[1] == 2
    shown = cli(env, "query", "how long are backups kept", "--include-superseded")
    assert "superseded by #2" in shown.stdout


def test_human_output_and_get_forget(env: dict[str, str]) -> None:
    cli(env, "store", "Backups run nightly at 02:00 UTC", "--kind", "fact")
    shown = cli(env, "get", "1")
    assert shown.exit_code == 0 and "#1" in shown.stdout and "Backups run nightly" in shown.stdout
    as_json = json.loads(cli(env, "get", "1", "--json").stdout)
    assert as_json["kind"] == "fact" and as_json["id"] == 1
    assert cli(env, "forget", "1").exit_code == 0
    missing = cli(env, "get", "1")
    assert missing.exit_code == 1
    assert "no memory #1" in missing.stderr and missing.stdout == ""


def test_errors_go_to_stderr_with_a_nonzero_exit(env: dict[str, str]) -> None:
    refused = cli(env, "store", "our token is ghp_0123456789abcdefghijABCDEFGHIJ012345", "--json")
    assert refused.exit_code == 1
    assert "GitHub token" in refused.stderr and refused.stdout == ""
    redacted = cli(
        env, "store", "our token is ghp_0123456789abcdefghijABCDEFGHIJ012345", "--redact", "--json"
    )
    assert json.loads(redacted.stdout)["redacted"] == ["GitHub token"]
    bad_since = cli(env, "query", "x", "--since", "yesterday-ish")
    assert bad_since.exit_code == 1 and "--since" in bad_since.stderr
    bad_kind = cli(env, "store", "something", "--kind", "Not A Kind")
    assert bad_kind.exit_code == 1 and "kind must be" in bad_kind.stderr and "ref" not in bad_kind.stderr
    bad_tenant = cli(env, "stats", "--tenant", "Not Valid")
    assert bad_tenant.exit_code == 1 and "tenant" in bad_tenant.stderr


def test_malformed_setting_fails_with_its_name(env: dict[str, str]) -> None:
    result = cli({**env, "TEAMLORE_HTTP__PORT": "eighty"}, "stats")
    assert result.exit_code == 2
    assert "TEAMLORE_HTTP__PORT" in result.stderr


def test_stats_tags_and_tenants(env: dict[str, str]) -> None:
    cli(env, "store", "a #1", "-t", "x", "-t", "y")
    cli(env, "store", "b", "-t", "x", "--tenant", "other")
    stats = json.loads(cli(env, "stats", "--json").stdout)
    assert stats["memories"] == 1 and stats["indexed_vectors"] == 1
    assert json.loads(cli(env, "tags", "--json").stdout) == [
        {"tag": "x", "count": 1},
        {"tag": "y", "count": 1},
    ]
    assert json.loads(cli(env, "stats", "--json", "--tenant", "other").stdout)["memories"] == 1


def test_export_import_round_trip(env: dict[str, str], tmp_path: Path) -> None:
    for text in ("alpha is the first letter", "beta follows alpha", "gamma comes third"):
        cli(env, "store", text)
    dump = tmp_path / "dump.jsonl"
    assert cli(env, "export", "--output", str(dump)).exit_code == 0
    assert len(dump.read_text().splitlines()) == 3
    other = {**env, "TEAMLORE_DATA_DIR": str(tmp_path / "other")}
    imported = cli(other, "import", str(dump), "--json")
    assert json.loads(imported.stdout) == {"imported": 3, "duplicates": 0}
    for question in ("alpha", "what comes third"):
        assert cli(env, "query", question, "--json").stdout == cli(other, "query", question, "--json").stdout
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"not": "a memory"}\n')
    failed = cli(other, "import", str(broken))
    assert failed.exit_code == 1 and "line 1" in failed.stderr


def test_ten_thousand_memories_import_with_a_progress_bar(env: dict[str, str], tmp_path: Path) -> None:
    now = "2026-01-01T00:00:00+00:00"
    lines = [
        ExportRecord(
            id=i + 1,
            text=f"memory {i}: service s{i % 97} owner team{i % 13} runs on port {8000 + i}",
            created_at=now,
            tags=(f"t{i % 7}",),
        ).model_dump_json()  # type: ignore[arg-type]
        for i in range(10_000)
    ]
    dump = tmp_path / "ten-thousand.jsonl"
    dump.write_text("\n".join(lines))
    result = cli(env, "import", str(dump), "--progress")
    assert result.exit_code == 0, result.stderr
    assert "importing" in result.stderr and "10000/10000" in result.stderr
    assert "Imported 10000 memories" in result.stderr

    async def timed_query() -> tuple[float, list[str]]:
        from memory_core import CoreSettings, MemoryCore
        from memory_core.testing import HashingEmbedder

        async with await MemoryCore.open(
            CoreSettings(data_dir=Path(env["TEAMLORE_DATA_DIR"])), embedder=HashingEmbedder()
        ) as core:
            await core.query("default", "warm up")
            start = time.perf_counter()
            hits = await core.query("default", "who owns service s42 on port 8042", limit=3)
            return time.perf_counter() - start, [h.memory.text for h in hits]

    elapsed, texts = anyio.run(timed_query)
    assert texts[0].startswith("memory 42:")
    # Generous on purpose: the figure that matters is measured in bench/; this only guards the order.
    assert elapsed < 0.5


@pytest.mark.model
def test_console_script_with_the_real_model(tmp_path: Path) -> None:
    env = {**os.environ, "TEAMLORE_DATA_DIR": str(tmp_path / "data")}
    env.pop("TEAMLORE_CORE__EMBEDDING_MODEL", None)
    exe = Path(sys.executable).with_name("teamlore")
    stored = subprocess.run(
        [exe, "store", "Customer refunds above 500 euros need approval from Maria", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    memory_id = json.loads(stored.stdout)["id"]
    found = subprocess.run(
        [exe, "query", "who must sign off a big refund?", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    hits = json.loads(found.stdout)
    assert hits[0]["id"] == memory_id
    assert found.stderr.strip() == "" or "Warning" not in found.stderr


def test_reflect_and_quality_json_shapes(env: dict[str, str]) -> None:
    for text in (
        "Incident 501: the checkout API returned 502 errors after the deploy at 09:00",
        "Incident 501: rolled back the checkout deploy at 09:20, errors stopped",
        "Incident 501 root cause: a missing database index on the orders table",
    ):
        assert cli(env, "store", text, "--kind", "incident", "-t", "checkout").exit_code == 0
    reflected = cli(env, "reflect", "checkout incident", "--json")
    assert reflected.exit_code == 0, reflected.stderr
    body = json.loads(reflected.stdout)
    assert {"id", "summary", "points", "timeline", "duplicates", "conflicts", "sources"} <= set(body)
    assert body["summary"] and set(body["sources"]) <= {1, 2, 3} and body["sources"]
    assert all({"text", "sources"} <= set(p) for p in body["points"])
    assert [e["id"] for e in body["timeline"]] == sorted(e["id"] for e in body["timeline"])
    assert json.loads(cli(env, "get", str(body["id"]), "--json").stdout)["kind"] == "reflection"
    dry = json.loads(cli(env, "reflect", "checkout incident", "--dry-run", "--json").stdout)
    assert dry["id"] is None

    quality = cli(env, "quality", "--json")
    assert quality.exit_code == 0, quality.stderr
    report = json.loads(quality.stdout)
    assert {"score", "findings", "trend"} <= set(report) and 0 <= report["score"] <= 100
    assert all({"kind", "severity", "memory_ids", "hint"} <= set(f) for f in report["findings"])
    again = json.loads(cli(env, "quality", "--json").stdout)
    assert [t["score"] for t in again["trend"]][-1:] == [report["score"]]
    assert "Memory quality" in cli(env, "quality").stdout
    assert cli(env, "reflect").exit_code == 1  # neither a topic nor a window: a clear refusal


def test_discord_invite_prints_the_oauth_url(env: dict[str, str]) -> None:
    missing = cli(env, "discord", "invite")
    assert missing.exit_code == 2 and "TEAMLORE_DISCORD__APPLICATION_ID" in missing.stderr
    result = cli({**env, "TEAMLORE_DISCORD__APPLICATION_ID": "123456789012345678"}, "discord", "invite")
    assert result.exit_code == 0, result.stderr
    url = result.stdout.strip()
    assert url.startswith("https://discord.com/") and "client_id=123456789012345678" in url
    assert "scope=bot+applications.commands" in url or "scope=bot%20applications.commands" in url
