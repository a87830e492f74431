"""Admin pages: the audit log (who deleted what, when) and the tenant's API keys (create, list, revoke)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from memory_core import InvalidInput, Scope

from .frame import Frame, Viewer

__all__ = ["routes"]


def routes(ui: Frame) -> list[BaseRoute]:
    core, keys = ui.core, ui.keys

    @ui.page(Scope.ADMIN, "read the audit log")
    async def audit(request: Request, viewer: Viewer) -> Response:
        rows = await core.audit_log(viewer.tenant, limit=200)
        return ui.render(request, viewer, "audit.html", rows=rows)

    async def keys_page(request: Request, viewer: Viewer, status: int = 200, **extra: object) -> Response:
        listed = await keys.list(viewer.tenant)
        return ui.render(
            request,
            viewer,
            "keys.html",
            status,
            keys=listed,
            scopes=list(Scope),
            notice=ui.notice(request.query_params),
            **{"created": None, "errors": {}, "form": {}, **extra},
        )

    @ui.page(Scope.ADMIN, "manage API keys")
    async def api_keys(request: Request, viewer: Viewer) -> Response:
        if request.method == "GET":
            return await keys_page(request, viewer)
        form = {k: str(v) for k, v in (await ui.form(request)).items()}
        if form.get("scope") not in {s.value for s in Scope}:
            return await keys_page(
                request, viewer, 422, errors={"scope": "choose read, write or admin"}, form=form
            )
        try:
            secret, info = await keys.create(viewer.tenant, form["scope"], form.get("name", ""))
        except InvalidInput as exc:
            return await keys_page(request, viewer, 422, errors={"name": str(exc)}, form=form)
        # The secret is in this one response only (no-store), never in a URL or a log.
        return await keys_page(request, viewer, 201, created=(secret, info))

    @ui.page(Scope.ADMIN, "revoke API keys")
    async def revoke(request: Request, viewer: Viewer) -> Response:
        raw = str(request.path_params["key_id"])
        if not raw.isdigit() or len(raw) > 18:
            raise InvalidInput(f"{raw!r} is not a key id")
        found = await keys.get(int(raw))
        if found.tenant != viewer.tenant:  # another tenant's key does not exist for this admin
            raise InvalidInput(f"no API key {raw}")
        await keys.revoke(found.id)
        return ui.done("/admin/keys", "revoked", id=found.id)

    return [
        Route("/admin/audit", audit),
        Route("/admin/keys", api_keys, methods=["GET", "POST"]),
        Route("/admin/keys/{key_id}/revoke", revoke, methods=["POST"]),
    ]
