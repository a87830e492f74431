"""Pages to find and keep memories: search, recent, tags, stats, one memory, store, edit, forget."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from memory_core import Duplicate, Importance, InvalidInput, Memory, NotFound, Scope, Source

from .forms import MODES, FieldErrors, SearchForm, draft_from, filters_from, patch_from
from .frame import Frame, Viewer

__all__ = ["routes"]


def _memory_id(request: Request) -> int:
    raw = str(request.path_params["memory_id"])
    if not raw.isdigit() or len(raw) > 18:
        raise InvalidInput(f"{raw!r} is not a memory id")
    return int(raw)


def _form_of(memory: Memory) -> dict[str, str]:
    return {
        "text": memory.text,
        "kind": memory.kind,
        "tags": ", ".join(memory.tags),
        "importance": memory.importance.value,
        "expires": memory.expires_at.date().isoformat() if memory.expires_at else "",
    }


def _core_error_fields(exc: Exception) -> dict[str, str]:
    """A core refusal of a store or edit, next to the field it is about (the text, unless the form's)."""
    if isinstance(exc, FieldErrors):
        return exc.fields
    if isinstance(exc, NotFound):  # the only id a store or edit form names is the one it replaces
        return {"supersedes": f"no memory #{exc.memory_id} to replace"}
    return {"text": str(exc)}


def routes(ui: Frame) -> list[BaseRoute]:
    core = ui.core
    choices: dict[str, Any] = {"sources": list(Source), "modes": MODES, "importances": list(Importance)}

    @ui.page()
    async def home(request: Request, viewer: Viewer) -> Response:
        return RedirectResponse("/search", status_code=303)

    @ui.page()
    async def search(request: Request, viewer: Viewer) -> Response:
        form = SearchForm(request.query_params)
        hits, browse, errors = [], None, {}
        try:
            filters, limit, mode = filters_from(form)
            if form.question:
                hits = await core.query(viewer.tenant, form.question, filters=filters, limit=limit, mode=mode)
            elif filters.model_dump(exclude_defaults=True):
                browse = await core.recent(viewer.tenant, limit=limit, filters=filters)
        except FieldErrors as exc:
            errors = exc.fields
        except InvalidInput as exc:
            errors = {"q": str(exc)}
        return ui.render(
            request,
            viewer,
            "search.html",
            422 if errors else 200,
            form=form.values,
            hits=hits,
            browse=browse,
            errors=errors,
            searched=bool(form.question),
            **choices,
        )

    @ui.page()
    async def recent(request: Request, viewer: Viewer) -> Response:
        raw = request.query_params.get("page", "1")
        page = int(raw) if raw.isdigit() and 0 < int(raw) < 100_000 else 1
        size = ui.settings.page_size
        found = await core.recent(viewer.tenant, limit=size + 1, offset=(page - 1) * size)
        return ui.render(
            request,
            viewer,
            "recent.html",
            memories=found[:size],
            page=page,
            more=len(found) > size,
            notice=ui.notice(request.query_params),
        )

    @ui.page()
    async def tags(request: Request, viewer: Viewer) -> Response:
        return ui.render(request, viewer, "tags.html", tags=await core.list_tags(viewer.tenant))

    @ui.page()
    async def stats(request: Request, viewer: Viewer) -> Response:
        return ui.render(request, viewer, "stats.html", stats=await core.stats(viewer.tenant))

    @ui.page()
    async def memory(request: Request, viewer: Viewer) -> Response:
        shown = await core.get(viewer.tenant, _memory_id(request))
        related = [i for i in (shown.supersedes, shown.superseded_by, *shown.links) if i is not None]
        known = {m.id: m for m in await core.get_many(viewer.tenant, related)}
        return ui.render(
            request,
            viewer,
            "memory.html",
            memory=shown,
            known=known,
            may_change=viewer.may_change(shown),
            notice=ui.notice(request.query_params),
        )

    @ui.page(Scope.WRITE, "change memories")
    async def edit(request: Request, viewer: Viewer) -> Response:
        current = await core.get(viewer.tenant, _memory_id(request), count_access=False)
        if not viewer.may_change(current):
            raise _not_yours(current)
        if request.method == "GET":
            return ui.render(
                request, viewer, "edit.html", memory=current, form=_form_of(current), errors={}, **choices
            )
        form = {k: str(v) for k, v in (await ui.form(request)).items()}
        try:
            patch = patch_from(form, current, datetime.now(UTC))
            await core.update(viewer.tenant, current.id, patch, actor=viewer.key.actor)
        except (FieldErrors, InvalidInput, Duplicate) as exc:
            return ui.render(
                request,
                viewer,
                "edit.html",
                422,
                memory=current,
                form=form,
                errors=_core_error_fields(exc),
                **choices,
            )
        return ui.done(f"/memories/{current.id}", "edited", id=current.id)

    @ui.page(Scope.WRITE, "forget memories")
    async def forget(request: Request, viewer: Viewer) -> Response:
        current = await core.get(viewer.tenant, _memory_id(request), count_access=False)
        if not viewer.may_change(current):
            raise _not_yours(current)
        if request.method == "GET":
            return ui.render(request, viewer, "forget.html", memory=current)
        await core.delete(viewer.tenant, current.id, actor=viewer.key.actor)
        back = str((await ui.form(request)).get("back") or "")
        target = "/quality" if back == "quality" else "/recent"
        return ui.done(target, "forgotten", id=current.id)

    @ui.page(Scope.WRITE, "store memories")
    async def store(request: Request, viewer: Viewer) -> Response:
        if request.method == "GET":
            return ui.render(request, viewer, "store.html", form={}, errors={}, result=None, **choices)
        form = {k: str(v) for k, v in (await ui.form(request)).items()}
        try:
            draft = draft_from(form, viewer.key.actor, datetime.now(UTC))
            result = await core.store(viewer.tenant, draft, redact=form.get("redact") == "on")
        except (FieldErrors, InvalidInput, NotFound) as exc:
            return ui.render(
                request,
                viewer,
                "store.html",
                422,
                form=form,
                errors=_core_error_fields(exc),
                result=None,
                **choices,
            )
        # A duplicate keeps what was typed (it may differ in tags); a new memory clears the form.
        kept = form if not result.created else {}
        return ui.render(request, viewer, "store.html", form=kept, errors={}, result=result, **choices)

    return [
        Route("/", home),
        Route("/search", search),
        Route("/recent", recent),
        Route("/tags", tags),
        Route("/stats", stats),
        Route("/store", store, methods=["GET", "POST"]),
        Route("/memories/{memory_id}", memory),
        Route("/memories/{memory_id}/edit", edit, methods=["GET", "POST"]),
        Route("/memories/{memory_id}/forget", forget, methods=["GET", "POST"]),
    ]


def _not_yours(memory: Memory) -> Exception:
    from memory_core import PermissionDenied

    who = memory.author or memory.author_id or "someone else"
    return PermissionDenied(f"only {who} (who stored #{memory.id}) or an admin key can change it")
