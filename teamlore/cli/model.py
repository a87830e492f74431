"""`teamlore model prepare`: load (and for ONNX Runtime, export once) the embedding model ahead of use."""

from __future__ import annotations

import time
from typing import Any

import typer

from .runner import JsonOption, err, load, print_json, run

__all__ = ["model_app"]

model_app = typer.Typer(name="model", help="The embedding model.", no_args_is_help=True)


@model_app.callback()
def group() -> None:
    """The embedding model (a group, so `prepare` keeps its name with one command)."""


@model_app.command("prepare")
def prepare(as_json: JsonOption = False) -> None:
    """Load the configured model now and embed one text. For all-MiniLM-L6-v2 on ONNX Runtime (the
    default) this exports it from the package's weights into TEAMLORE_CORE__MODEL_CACHE_DIR once, so
    no later start or first query waits for it. Nothing is downloaded."""

    async def work() -> dict[str, Any]:
        import anyio.to_thread

        from memory_core.embedding import LazyEmbedder, embedder_for

        settings = load().core_settings()
        started = time.perf_counter()

        def prepare_now() -> dict[str, Any]:
            embedder = embedder_for(settings)
            inner = embedder.model() if isinstance(embedder, LazyEmbedder) else embedder
            vector = embedder.embed(["teamlore model prepare"])[0]
            graph = getattr(inner, "graph_path", None)
            return {
                "model": embedder.model_id,
                "dim": int(vector.shape[0]),
                "runtime": "onnx" if graph is not None else "torch",
                "path": str(graph) if graph is not None else None,
            }

        info = await anyio.to_thread.run_sync(prepare_now)
        return {**info, "seconds": round(time.perf_counter() - started, 2)}

    info = run(work)
    if as_json:
        print_json(info)
        return
    where = f", {info['path']}" if info["path"] else ""
    err.print(
        f"{info['model']} ready on {info['runtime']} ({info['dim']} dimensions{where}) "
        f"in {info['seconds']:.1f} s.",
        highlight=False,
    )
