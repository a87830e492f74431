"""Per-front-end health: the supervisor, the request middleware and the log feed it; /readyz shows it."""

from __future__ import annotations

import io
import logging
import time

import httpx
import pytest

from teamlore import metrics, runtime
from teamlore.health import FrontendHealth
from teamlore.logconfig import configure_logging
from teamlore.settings import LoggingSettings

from ._served import make_keys, serve


@pytest.mark.anyio
async def test_the_supervisor_marks_a_failing_service_down_with_its_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def no_sleep(_seconds: float) -> None:
        pass

    monkeypatch.setattr(runtime.anyio, "sleep", no_sleep)
    health = FrontendHealth(["discord"])
    seen: list[bool] = []
    calls = 0

    async def flaky() -> None:
        nonlocal calls
        calls += 1
        seen.append(health.snapshot()["discord"]["up"])
        if calls <= 2:
            raise RuntimeError("gateway went away")

    before = metrics.FRONTEND_ERRORS.labels(frontend="discord")._value.get()
    await runtime._supervise("discord", flaky, health)
    state = health.snapshot()["discord"]
    assert seen == [True, True, True]  # up while it runs, again after each restart
    assert state["up"] is False  # it returned: stopped
    assert state["errors"] == 2 and state["last_error"]["message"] == "RuntimeError: gateway went away"
    assert state["last_error"]["at"] is not None
    assert metrics.FRONTEND_ERRORS.labels(frontend="discord")._value.get() == before + 2


def test_log_records_of_a_frontend_are_its_activity_and_errors() -> None:
    now = [1_800_000_000.0]
    health = FrontendHealth(["mail", "scheduler"], clock=lambda: now[0])
    handler = health.log_handler()
    root = logging.getLogger()
    saved = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        logging.getLogger("mailer.handler").info("mail %s from %s: %s", "<a@b>", "x@y", "250 stored")
        now[0] += 5
        logging.getLogger("mailer.errors").error("mail refused for now, configuration problem: %s", "disk")
        logging.getLogger("bots.discord.cog").info("not enabled in this process: ignored")
        logging.getLogger("sqlalchemy").error("not a front-end: ignored")
    finally:
        root.removeHandler(handler)
        root.setLevel(saved)
    state = health.snapshot()
    assert state["mail"]["last_activity"] == "2027-01-15T08:00:05+00:00"
    assert state["mail"]["last_error"] == {
        "at": "2027-01-15T08:00:05+00:00",
        "message": "mail refused for now, configuration problem: disk",
    }
    assert state["scheduler"] == {"up": False, "last_activity": None, "last_error": None, "errors": 0}
    assert set(state) == {"mail", "scheduler"}


def test_info_lines_reach_the_health_when_only_warnings_are_written(monkeypatch: pytest.MonkeyPatch) -> None:
    stream = io.StringIO()
    monkeypatch.setattr("sys.stderr", stream)
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    health = FrontendHealth(["scheduler"])
    try:
        configure_logging(LoggingSettings(level="WARNING", format="plain"))
        root.addHandler(health.log_handler())
        logging.getLogger("scheduler.runner").info("scheduler leads")
        logging.getLogger("scheduler.runner").warning("a warning is written")
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
    assert "scheduler leads" not in stream.getvalue() and "a warning is written" in stream.getvalue()
    assert health.snapshot()["scheduler"]["last_activity"] is not None


def test_readyz_shows_each_enabled_frontend(tmp_path) -> None:  # type: ignore[no-untyped-def]
    data_dir = tmp_path / "data"
    keys = make_keys(data_dir, {"writer": ("default", "write")})
    with serve(data_dir, only="web,scheduler") as served:
        first = httpx.get(f"{served.url}/readyz").json()["frontends"]
        assert set(first) == {"web", "mcp-http", "webhooks", "webui", "scheduler"}
        assert all(state["up"] for state in first.values()), first
        assert first["webhooks"]["last_activity"] is None  # probes are not activity
        deadline = time.monotonic() + 30
        while first["scheduler"]["last_activity"] is None:  # until it has logged its election
            assert time.monotonic() < deadline, first
            time.sleep(0.1)
            first = httpx.get(f"{served.url}/readyz").json()["frontends"]

        auth = {"Authorization": f"Bearer {keys['writer']}"}
        assert (
            httpx.post(f"{served.url}/api/v1/query", json={"question": "x"}, headers=auth).status_code == 200
        )
        assert httpx.post(f"{served.url}/hooks/nobody", content=b"{}").status_code == 404
        assert first["webui"]["last_activity"] is None
        assert httpx.get(f"{served.url}/signin").status_code == 200
        later = httpx.get(f"{served.url}/readyz").json()
        assert later["ready"] is True
        assert later["frontends"]["web"]["last_activity"] is not None
        assert later["frontends"]["webhooks"]["last_activity"] is not None
        assert later["frontends"]["webhooks"]["last_error"] is None  # a 404 is the caller's problem
        assert later["frontends"]["webui"]["last_activity"] is not None

        scrape = httpx.get(f"{served.url}/metrics").text
        assert 'teamlore_frontend_up{frontend="web"} 1.0' in scrape
        assert 'teamlore_frontend_up{frontend="scheduler"} 1.0' in scrape
        assert "teamlore_index_lag_changes" in scrape
