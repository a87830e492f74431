"""Slack ack latency: N concurrent signed slash commands against the real endpoint; p50/p95/p99 of the ack.

Slack gives an app three seconds to acknowledge. This starts teamlore's Slack endpoint under uvicorn on
127.0.0.1 with a real core (SQLite in a temporary directory; the hashing embedder by default, or
`--model all-MiniLM-L6-v2` for realistic work after the ack). A separate client process (Slack is
another machine) fires `--requests` signed `/store` commands at once, `--rounds` times; the report is
how long each took to be acknowledged, and how long until every answer had reached its `response_url`
(a local recording server). Round 1 is cold (it includes Bolt's one-time auth.test).

    python -m bench.slack_ack [--requests 50] [--rounds 3] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import anyio
import httpx
from starlette.applications import Starlette

from bots.slack import SlackBot, SlackSettings
from memory_core import Embedder, TenantMap, load_embedder
from memory_core.testing import open_test_core
from tests.bots.slack.fake_slack import RecordingSlack, serve_asgi, signed_headers, slash_command

__all__ = ["RoundReport", "main", "measure"]

SECRET = "bench-signing-secret-0123456789ab"
SLACK_ACK_DEADLINE = 3.0


@dataclass(frozen=True)
class RoundReport:
    round: int
    requests: int
    ack_p50_ms: float
    ack_p95_ms: float
    ack_p99_ms: float
    ack_max_ms: float
    late_acks: int
    all_answered_s: float


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


async def _fire(url: str, response_urls: list[str], texts: list[str]) -> list[float]:
    """The load generator (run in its own process, like Slack is): one signed /store per text, all at once."""
    latencies: list[float] = []
    limits = httpx.Limits(max_connections=len(texts), max_keepalive_connections=0)
    async with httpx.AsyncClient(timeout=30, limits=limits) as http:

        async def one(text: str, response_url: str) -> None:
            body = slash_command("/store", text, response_url=response_url)
            headers = signed_headers(SECRET, body)
            started = time.perf_counter()
            response = await http.post(url, content=body, headers=headers)
            latencies.append(time.perf_counter() - started)
            response.raise_for_status()

        async with anyio.create_task_group() as group:
            for text, response_url in zip(texts, response_urls, strict=True):
                group.start_soon(one, text, response_url)
    return latencies


def _ready() -> bool:
    return True


def _client_process(url: str, response_urls: list[str], texts: list[str]) -> list[float]:
    return asyncio.run(_fire(url, response_urls, texts))


async def _round(
    number: int, requests: int, url: str, slack: RecordingSlack, pool: ProcessPoolExecutor
) -> RoundReport:
    before = len(slack.responses())
    texts = [f"round {number} fact {i}: service-{i} is owned by team-{i % 7} #bench" for i in range(requests)]
    response_urls = [slack.response_url(f"r{number}-{i}") for i in range(requests)]
    started = time.perf_counter()
    loop = asyncio.get_running_loop()
    latencies = await loop.run_in_executor(pool, _client_process, url, response_urls, texts)
    await slack.wait_for(lambda fake: len(fake.responses()) - before >= requests, within=600)
    answered = time.perf_counter() - started
    return RoundReport(
        round=number,
        requests=requests,
        ack_p50_ms=round(statistics.median(latencies) * 1000, 1),
        ack_p95_ms=round(_percentile(latencies, 0.95) * 1000, 1),
        ack_p99_ms=round(_percentile(latencies, 0.99) * 1000, 1),
        ack_max_ms=round(max(latencies) * 1000, 1),
        late_acks=sum(1 for latency in latencies if latency >= SLACK_ACK_DEADLINE),
        all_answered_s=round(answered, 2),
    )


async def measure(requests: int = 50, rounds: int = 3, embedder: Embedder | None = None) -> list[RoundReport]:
    """Run the benchmark; one report per round."""
    reports: list[RoundReport] = []
    with tempfile.TemporaryDirectory() as tmp:
        async with RecordingSlack() as slack, open_test_core(Path(tmp), embedder=embedder) as core:
            settings = SlackSettings(
                bot_token="xoxb-bench", signing_secret=SECRET, api_base_url=slack.api_base_url
            )
            bot = SlackBot(core, TenantMap(), settings)
            async with serve_asgi(Starlette(routes=bot.routes())) as base:
                # spawn, not fork: this process has threads (SQLite, embedding) a fork would copy mid-flight
                with ProcessPoolExecutor(
                    max_workers=1, mp_context=multiprocessing.get_context("spawn")
                ) as pool:
                    await asyncio.get_running_loop().run_in_executor(pool, _ready)  # start it before timing
                    for number in range(1, rounds + 1):
                        reports.append(
                            await _round(number, requests, base + settings.events_path, slack, pool)
                        )
            await bot.aclose()
    return reports


def main(argv: list[str] | None = None) -> int:
    """Print the ack-latency figures (a table, or JSON with --json); exit 1 if an ack missed 3 s."""
    parser = argparse.ArgumentParser(prog="python -m bench.slack_ack", description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=50, help="concurrent slash commands per round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds (the first is cold)")
    parser.add_argument("--model", default=None, help="embedding model (default: the fast hashing embedder)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    embedder = load_embedder(args.model) if args.model else None
    reports = asyncio.run(measure(args.requests, args.rounds, embedder))
    if args.json:
        print(json.dumps([asdict(report) for report in reports], indent=2))
    else:
        print(f"Slack ack latency, {args.requests} concurrent /store per round (Slack's deadline: 3000 ms)")
        head = ("round", "p50 ms", "p95 ms", "p99 ms", "max ms", "late", "answered")
        print(f"{head[0]:>5} " + " ".join(f"{h:>8}" for h in head[1:]))
        for r in reports:
            print(
                f"{r.round:>5} {r.ack_p50_ms:>8} {r.ack_p95_ms:>8} {r.ack_p99_ms:>8} {r.ack_max_ms:>8} "
                f"{r.late_acks:>8} {r.all_answered_s:>7}s"
            )
    return 1 if any(r.late_acks for r in reports) else 0


if __name__ == "__main__":
    sys.exit(main())
