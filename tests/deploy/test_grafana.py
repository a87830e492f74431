"""deploy/grafana/teamlore.json: each metric it queries is one /metrics exports; Grafana's schema knows it."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from grafana_foundation_sdk.cog import encoder, plugins
from grafana_foundation_sdk.models.dashboard import Dashboard
from prometheus_client.parser import text_string_to_metric_families

from memory_core import ApiKeys, MemoryCore
from teamlore import metrics
from teamlore.health import FrontendHealth
from teamlore.web import create_app

DASHBOARD = Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "teamlore.json"
# Labels Prometheus adds to every scraped series, and the histogram bucket bound.
SCRAPE_LABELS = {"instance", "job", "le"}
_SAMPLE_SUFFIXES = {"counter": ("_total", "_created"), "histogram": ("_bucket", "_sum", "_count", "_created")}


def dashboard() -> dict[str, Any]:
    return json.loads(DASHBOARD.read_text("utf-8"))


def expressions(data: dict[str, Any]) -> list[str]:
    exprs = [t["expr"] for p in data["panels"] for t in p.get("targets", [])]
    exprs += [v["query"]["query"] for v in data["templating"]["list"] if isinstance(v.get("query"), dict)]
    return exprs


async def exported(core: MemoryCore) -> dict[str, set[str]]:
    """Sample name -> label names, from a real scrape of /metrics after some traffic."""
    health = FrontendHealth(["web", "webhooks"])
    app = create_app(core, health=health)
    secret, _ = await ApiKeys(core).create("default", "write")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        auth = {"Authorization": f"Bearer {secret}"}
        await http.post("/api/v1/memories", json={"text": "metrics need a memory"}, headers=auth)
        await http.post("/api/v1/query", json={"question": "metrics"}, headers=auth)
        await http.get("/api/v1/quality", params={"save": "true"}, headers=auth)  # a score to export
        health.error("webhooks", "for the test")
        # A restart is counted by the runtime's supervisor; a child with its labels is what it exports.
        metrics.FRONTEND_RESTARTS.labels(frontend="webhooks")
        text = (await http.get("/metrics")).text
    names: dict[str, set[str]] = {}
    for family in text_string_to_metric_families(text):
        labels = {label for sample in family.samples for label in sample.labels}
        for suffix in _SAMPLE_SUFFIXES.get(family.type, ("",)):
            names[family.name + suffix] = labels | names.get(family.name + suffix, set())
    return names


@pytest.mark.anyio
async def test_every_metric_the_dashboard_queries_is_exported(core: MemoryCore) -> None:
    names = await exported(core)
    queried: set[str] = set()
    for expr in expressions(dashboard()):
        for metric in re.findall(r"\bteamlore_\w+", expr):
            queried.add(metric)
            assert metric in names, f"{metric} (in {expr!r}) is not exported; exported: {sorted(names)}"
        # Every label the query selects or groups by is one the metric carries.
        for metric, selector in re.findall(r"\b(teamlore_\w+)\{([^}]*)\}", expr):
            for label in re.findall(r"(\w+)\s*[=!~]", selector):
                assert label in names[metric] | SCRAPE_LABELS, f"{metric} has no label {label!r}"
        for grouping in re.findall(r"\bby \(([^)]*)\)", expr):
            used = set(re.findall(r"\bteamlore_\w+", expr))
            for label in (g.strip() for g in grouping.split(",")):
                assert any(label in names[m] | SCRAPE_LABELS for m in used), (
                    f"no metric in {expr!r} has {label!r}"
                )
    # The dashboard covers what the issue asks for.
    for wanted in (
        "teamlore_requests_total",
        "teamlore_request_seconds_bucket",
        "teamlore_memories",
        "teamlore_ingest_failures",
        "teamlore_quality_score",
        "teamlore_index_lag_changes",
        "teamlore_frontend_up",
        "teamlore_frontend_errors_total",
    ):
        assert wanted in queried


def _missing(ours: Any, theirs: Any, path: str = "") -> list[str]:
    """Paths of `ours` that are not in `theirs` with the same value."""
    if isinstance(ours, dict):
        if not isinstance(theirs, dict):
            return [path or "."]
        return [
            m
            for k, v in ours.items()
            for m in (_missing(v, theirs[k], f"{path}.{k}") if k in theirs else [f"{path}.{k}"])
        ]
    if isinstance(ours, list):
        if not isinstance(theirs, list) or len(ours) != len(theirs):
            return [path]
        return [
            m
            for i, (a, b) in enumerate(zip(ours, theirs, strict=True))
            for m in _missing(a, b, f"{path}[{i}]")
        ]
    return [] if ours == theirs else [f"{path}: {ours!r} != {theirs!r}"]


def test_the_dashboard_uses_only_fields_of_grafanas_schema() -> None:
    """Grafana's dashboard models (grafana-foundation-sdk) read every field we wrote back unchanged.

    Their from_json keeps only the fields of the schema (the dashboard, each panel type's options and
    field config, the Prometheus query), so a misspelled or invented field would be missing here.
    """
    plugins.register_default_plugins()
    data = dashboard()
    model = Dashboard.from_json(data)
    round_trip = json.loads(json.dumps(model, cls=encoder.JSONEncoder))
    assert _missing(data, round_trip) == []
    assert data["uid"] and data["schemaVersion"] >= 36
    ids = [p["id"] for p in data["panels"]]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    for panel in data["panels"]:
        assert panel["type"] in {"row", "stat", "timeseries", "heatmap"}
        grid = panel["gridPos"]
        assert grid["x"] >= 0 and grid["x"] + grid["w"] <= 24, f"{panel['title']} leaves the 24-column grid"
        for target in panel.get("targets", []):
            assert target["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
            assert target["refId"]
    assert {v["name"] for v in data["templating"]["list"]} == {"datasource", "instance", "tenant"}
