"""The optional LLM writer of reflections: one OpenAI-compatible chat-completions call through httpx.

The model is given only the gathered memories (id, date, author, kind, text) and must answer with JSON:
`{"summary": "...", "points": [{"text": "...", "sources": [ids]}]}`. Anything else — a network error, a
timeout, an HTTP error, a body that is not that JSON, points that cite no real source — raises `LLMFailed`
with a short reason, and the caller falls back to the extractive synthesis. Ids the model invents (not
among the memories it was given) are dropped, and reported.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import anyio
import httpx

from .config import LLMSettings
from .types import Memory, ReflectionPoint

__all__ = ["LLMFailed", "LLMSynthesis", "synthesise"]

logger = logging.getLogger(__name__)

_SYSTEM = (
    "You write short, factual reflections for a software team from its own notes. Use only the memories "
    "given; never add facts. Every key point must cite the ids of the memories it rests on. Answer with a "
    'single JSON object and nothing else: {"summary": "<2-4 sentences>", "points": [{"text": "<one '
    'sentence>", "sources": [<memory ids>]}]}. Give at most {max_points} points, most important first. '
    "Mention contradictions or decisions that were reversed."
)

_FENCE = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.DOTALL)
_CITATION = re.compile(r"\s*[\[(]?#(\d+)[\])]?")


class LLMFailed(Exception):
    """The endpoint could not give a usable synthesis; `str(exc)` says why, for the reflection's notice."""


@dataclass(frozen=True)
class LLMSynthesis:
    summary: str
    points: tuple[ReflectionPoint, ...]
    dropped_ids: tuple[int, ...]


def _prompt(topic: str | None, memories: Sequence[Memory], budget: int) -> str:
    lines: list[str] = []
    used = 0
    # Newest first while filling the budget, so a long history loses its oldest memories, then back in order.
    for memory in sorted(memories, key=lambda m: (m.created_at, m.id), reverse=True):
        line = (
            f"[id {memory.id}] {memory.created_at:%Y-%m-%d} {memory.kind} by {memory.author or 'someone'}: "
            f"{' '.join(memory.text.split())[:2000]}"
        )
        if used + len(line) > budget and lines:
            break
        lines.append(line)
        used += len(line)
    lines.reverse()
    subject = f"Topic: {topic}" if topic else "Topic: everything the team noted in this period"
    return subject + "\n\nMemories (oldest first):\n" + "\n".join(lines)


def _content(body: Any) -> str:
    try:
        content = body["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError) as exc:
        raise LLMFailed("the LLM answer had no message content") from exc
    if not isinstance(content, str) or not content.strip():
        raise LLMFailed("the LLM answer was empty")
    return content


def _parse(content: str, known: set[int], max_points: int) -> LLMSynthesis:
    text = content.strip()
    fenced = _FENCE.match(text)
    if fenced:
        text = fenced.group(1)
    if not text.startswith("{"):
        start, end = text.find("{"), text.rfind("}")
        text = text[start : end + 1] if 0 <= start < end else text
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LLMFailed("the LLM answer was not the JSON asked for") from exc
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("summary"), str)
        or not isinstance(data.get("points"), list)
    ):
        raise LLMFailed("the LLM answer lacked a summary or points")
    dropped: set[int] = set()
    points: list[ReflectionPoint] = []
    for raw in data["points"][: max_points * 2]:
        if not isinstance(raw, dict) or not isinstance(raw.get("text"), str) or not raw["text"].strip():
            continue
        cited: list[int] = []
        for value in raw.get("sources") or []:
            try:
                memory_id = int(str(value).lstrip("#"))
            except ValueError:
                continue
            if memory_id in known:
                cited.append(memory_id)
            else:
                dropped.add(memory_id)
        text_ids = [int(i) for i in _CITATION.findall(raw["text"])]
        dropped.update(i for i in text_ids if i not in known)
        point_text = _CITATION.sub(
            lambda m: m.group(0) if int(m.group(1)) in known else "", raw["text"]
        ).strip()
        if cited and point_text:
            points.append(ReflectionPoint(text=point_text, sources=tuple(dict.fromkeys(cited))))
    summary_ids = [int(i) for i in _CITATION.findall(data["summary"])]
    dropped.update(i for i in summary_ids if i not in known)
    summary = _CITATION.sub(lambda m: m.group(0) if int(m.group(1)) in known else "", data["summary"]).strip()
    if not summary or not points:
        raise LLMFailed("the LLM answer cited none of the memories it was given")
    return LLMSynthesis(
        summary=summary, points=tuple(points[:max_points]), dropped_ids=tuple(sorted(dropped))
    )


async def synthesise(
    settings: LLMSettings, topic: str | None, memories: Sequence[Memory], *, max_points: int
) -> LLMSynthesis:
    """Ask the configured endpoint for a summary and cited points of `memories`.

    Raises:
        LLMFailed: error, timeout or unusable answer (the message is safe to show; no key in it).
    """
    assert settings.base_url
    url = settings.base_url.rstrip("/") + "/chat/completions"
    headers = {"Accept": "application/json"}
    if settings.api_key is not None:
        headers["Authorization"] = f"Bearer {settings.api_key.get_secret_value()}"
    payload = {
        "model": settings.model,
        "messages": [
            {"role": "system", "content": _SYSTEM.replace("{max_points}", str(max_points))},
            {"role": "user", "content": _prompt(topic, memories, settings.max_input_chars)},
        ],
        "temperature": settings.temperature,
        "max_tokens": settings.max_tokens,
        "stream": False,
    }
    try:
        # httpx's timeout bounds each phase; fail_after bounds the whole exchange (a slow trickle too).
        with anyio.fail_after(settings.timeout):
            async with httpx.AsyncClient(timeout=settings.timeout, follow_redirects=False) as client:
                response = await client.post(url, json=payload, headers=headers)
    except (TimeoutError, httpx.TimeoutException) as exc:
        raise LLMFailed(f"the LLM endpoint did not answer within {settings.timeout:g} s") from exc
    except httpx.HTTPError as exc:
        raise LLMFailed(f"the LLM endpoint could not be reached ({type(exc).__name__})") from exc
    if response.status_code != 200:
        raise LLMFailed(f"the LLM endpoint answered HTTP {response.status_code}")
    try:
        body = response.json()
    except ValueError as exc:
        raise LLMFailed("the LLM answer was not JSON") from exc
    result = _parse(_content(body), {m.id for m in memories}, max_points)
    logger.debug(
        "LLM reflection by %s: %d points, %d invented ids dropped",
        settings.model,
        len(result.points),
        len(result.dropped_ids),
    )
    return result
