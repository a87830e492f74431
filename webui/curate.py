"""Pages that look after the memory: the quality report with one-click fixes and its trend, reflection."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from memory_core import Finding, InvalidInput, MemoryPatch, QualityReport, QueryFilters, Scope

from .chart import ChartPoint, trend_svg
from .forms import FieldErrors, extended, parse_date, parse_tags
from .frame import Frame, Viewer

__all__ = ["routes"]

_SHOWN = 6  # memories shown side by side per finding; the rest are listed by id
_PAIR_KINDS = ("duplicate", "near_duplicate", "conflict")
_EXTEND_DAYS = (30, 90, 365)


def _groups(report: QualityReport) -> dict[str, list[Finding]]:
    groups: dict[str, list[Finding]] = {}
    for finding in report.findings:
        groups.setdefault(finding.kind, []).append(finding)
    return groups


def _chart(report: QualityReport) -> str:
    points = [ChartPoint(p.at, p.score) for p in report.trend]
    return trend_svg([*points, ChartPoint(report.created_at, report.score)])


def _int(form: Mapping[str, str], name: str) -> int:
    value = str(form.get(name) or "")
    if not value.isdigit() or len(value) > 18:
        raise InvalidInput(f"{name} must be a memory id")
    return int(value)


def _reflect_inputs(params: Mapping[str, str]) -> tuple[str | None, QueryFilters, dict[str, str]]:
    values = {k: str(params.get(k) or "").strip()[:500] for k in ("topic", "since", "until", "tags")}
    try:
        filters = QueryFilters(
            tags=parse_tags(values["tags"]),
            since=parse_date(values["since"], "since"),
            until=parse_date(values["until"], "until", end_of_day=True),
        )
    except FieldErrors:
        raise
    return values["topic"] or None, filters, values


def routes(ui: Frame) -> list[BaseRoute]:
    core = ui.core

    @ui.page()
    async def quality(request: Request, viewer: Viewer) -> Response:
        report = await core.quality_report(viewer.tenant, save=False)
        wanted = [i for f in report.findings for i in f.memory_ids[:_SHOWN]]
        known = {m.id: m for m in await core.get_many(viewer.tenant, wanted)}
        groups = _groups(report)
        counts = {kind: sum(len(f.memory_ids) for f in found) for kind, found in groups.items()}
        trend_kinds = sorted({kind for p in report.trend for kind in p.counts} | set(groups))
        return ui.render(
            request,
            viewer,
            "quality.html",
            report=report,
            groups=groups,
            counts=counts,
            known=known,
            shown=_SHOWN,
            pair_kinds=_PAIR_KINDS,
            extend_days=_EXTEND_DAYS,
            chart=_chart(report),
            trend_kinds=trend_kinds,
            notice=ui.notice(request.query_params),
        )

    @ui.page(Scope.WRITE, "save quality reports")
    async def save_report(request: Request, viewer: Viewer) -> Response:
        await core.quality_report(viewer.tenant, save=True)
        return ui.done("/quality", "report-saved")

    @ui.page(Scope.WRITE, "fix findings")
    async def fix(request: Request, viewer: Viewer) -> Response:
        form = {k: str(v) for k, v in (await ui.form(request)).items()}
        action, actor = form.get("action"), viewer.key.actor
        if action == "supersede":
            old, new = _int(form, "old"), _int(form, "new")
            if old == new:
                raise InvalidInput("a memory cannot supersede itself")
            await core.update(viewer.tenant, old, MemoryPatch(superseded_by=new), actor=actor)
            return ui.done("/quality", "superseded", old=old, new=new)
        memory_id = _int(form, "id")
        if action == "extend":
            days = int(form["days"]) if form.get("days", "").isdigit() else 0
            if days not in _EXTEND_DAYS:
                raise InvalidInput(f"extend by {', '.join(map(str, _EXTEND_DAYS))} days")
            current = await core.get(viewer.tenant, memory_id, count_access=False)
            patch = MemoryPatch(expires_at=extended(current, datetime.now(UTC), days))
            await core.update(viewer.tenant, memory_id, patch, actor=actor)
            return ui.done("/quality", "extended", id=memory_id)
        if action == "drop-expiry":
            await core.update(viewer.tenant, memory_id, MemoryPatch(clear_expiry=True), actor=actor)
            return ui.done("/quality", "expiry-dropped", id=memory_id)
        if action == "forget":
            await core.delete(viewer.tenant, memory_id, actor=actor)
            return ui.done("/quality", "forgotten", id=memory_id)
        raise InvalidInput("unknown fix; reload the quality page")

    @ui.page()
    async def reflect(request: Request, viewer: Viewer) -> Response:
        saving = request.method == "POST"
        params = {k: str(v) for k, v in (await ui.form(request) if saving else request.query_params).items()}
        reflection, errors, values = (
            None,
            {},
            {k: params.get(k, "") for k in ("topic", "since", "until", "tags")},
        )
        try:
            topic, filters, values = _reflect_inputs(params)
            if saving:
                if not viewer.can_write:
                    raise InvalidInput("saving a reflection needs a key with write scope")
                saved = await core.reflect(viewer.tenant, topic, filters=filters, actor=viewer.key.actor)
                if saved.id is not None:
                    return ui.done(f"/memories/{saved.id}", "reflection-saved", id=saved.id)
                reflection = saved
            elif topic or filters.since or filters.until:
                reflection = await core.reflect(viewer.tenant, topic, filters=filters, dry_run=True)
        except FieldErrors as exc:
            errors = exc.fields
        except InvalidInput as exc:
            errors = {"topic": str(exc)}
        return ui.render(
            request,
            viewer,
            "reflect.html",
            422 if errors else 200,
            form=values,
            errors=errors,
            reflection=reflection,
        )

    return [
        Route("/quality", quality),
        Route("/quality/save", save_report, methods=["POST"]),
        Route("/quality/fix", fix, methods=["POST"]),
        Route("/reflect", reflect, methods=["GET", "POST"]),
    ]
