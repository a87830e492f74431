"""The quality page (findings side by side, one-click fixes, the trend chart) and reflection."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from memory_core import Scope
from webui.chart import ChartPoint, trend_svg

from .conftest import Web, post

pytestmark = pytest.mark.anyio

# Twelve shared words and one more: cosine 0.96 with the hashing embedder, a near-duplicate pair.
FIRST = "the staging database password rotation happens every first monday of the month at noon"
SECOND = FIRST + " utc"


async def _pair(web: Web, client) -> None:  # type: ignore[no-untyped-def]
    await post(client, "/store", "/store", {"text": FIRST})
    await post(client, "/store", "/store", {"text": SECOND})


async def test_quality_shows_a_near_duplicate_side_by_side_and_forgets_one_with_a_click(web: Web) -> None:
    async with await web.signed_in(Scope.WRITE) as client:
        await _pair(web, client)
        page = await client.get("/quality")
        assert page.status_code == 200 and "Near duplicate (1)" in page.text
        section = page.text[page.text.index('id="k-near_duplicate"') :]
        assert FIRST in section and SECOND in section
        assert "#2 supersedes #1" in section and "Forget #2" in section
        assert re.search(
            r'<a href="#k-near_duplicate">near duplicate</a></td><td class="num">1</td>', page.text
        )
        done = await post(client, "/quality", "/quality/fix", {"action": "forget", "id": "2"})
        assert done.status_code == 303 and done.headers["location"] == "/quality?done=forgotten&id=2"
        after = await client.get(done.headers["location"])
        assert "Forgot #2." in after.text and 'id="k-near_duplicate"' not in after.text


async def test_mark_one_memory_as_superseding_the_other(web: Web) -> None:
    async with await web.signed_in(Scope.WRITE) as client:
        await _pair(web, client)
        done = await post(client, "/quality", "/quality/fix", {"action": "supersede", "old": "1", "new": "2"})
        assert done.status_code == 303
        assert (await web.core.get("default", 1)).superseded_by == 2
        assert (await web.core.get("default", 2)).supersedes == 1  # both ends of the link
        assert "#1 is now marked as superseded by #2." in (await client.get(done.headers["location"])).text
        assert 'id="k-near_duplicate"' not in (await client.get("/quality")).text
        itself = await post(
            client, "/quality", "/quality/fix", {"action": "supersede", "old": "2", "new": "2"}
        )
        assert itself.status_code == 422 and "cannot supersede itself" in itself.text


async def test_extend_or_drop_an_expiry(web: Web) -> None:
    async with await web.signed_in(Scope.WRITE) as client:
        soon = (datetime.now(UTC) + timedelta(days=2)).date().isoformat()
        await post(
            client, "/store", "/store", {"text": "The conference wifi code is on the badge", "expires": soon}
        )
        before = (await web.core.get("default", 1)).expires_at
        assert before is not None
        extended = await post(
            client, "/quality", "/quality/fix", {"action": "extend", "id": "1", "days": "90"}
        )
        assert extended.status_code == 303
        after = (await web.core.get("default", 1)).expires_at
        assert after is not None and after - before >= timedelta(days=89)
        odd = await post(client, "/quality", "/quality/fix", {"action": "extend", "id": "1", "days": "7"})
        assert odd.status_code == 422
        dropped = await post(client, "/quality", "/quality/fix", {"action": "drop-expiry", "id": "1"})
        assert dropped.status_code == 303 and (await web.core.get("default", 1)).expires_at is None
        unknown = await post(client, "/quality", "/quality/fix", {"action": "explode", "id": "1"})
        assert unknown.status_code == 422


async def test_expired_memories_offer_an_expiry_fix(web: Web) -> None:
    from memory_core.testing import draft

    past = datetime.now(UTC) - timedelta(days=3)
    await web.core.store(
        "default",
        draft(
            "The old office door code", author_id=None, expires_at=past, created_at=past - timedelta(days=9)
        ),
    )
    async with await web.signed_in(Scope.ADMIN) as client:
        page = await client.get("/quality")
        section = page.text[page.text.index('id="k-expired"') :]
        assert (
            "The old office door code" in section
            and "Never expire" in section
            and "Expire in 30 days" in section
        )


async def test_fixes_need_write_scope_and_the_memorys_owner(web: Web) -> None:
    from memory_core.testing import draft

    await web.core.store("default", draft(FIRST))
    await web.core.store("default", draft(SECOND))
    async with await web.signed_in(Scope.READ) as reader:
        page = await reader.get("/quality")
        assert "Near duplicate (1)" in page.text and "Forget #" not in page.text
        assert "Save this report" not in page.text
        refused = await post(reader, "/quality", "/quality/fix", {"action": "forget", "id": "1"})
        assert refused.status_code == 403
    async with await web.signed_in(Scope.WRITE) as writer:
        assert "Forget #" not in (await writer.get("/quality")).text  # not this key's memories
        refused = await post(writer, "/quality", "/quality/fix", {"action": "forget", "id": "1"})
        assert refused.status_code == 403 and "or an admin" in refused.text
    assert len(await web.core.get_many("default", [1, 2])) == 2


async def test_trend_chart_after_two_saved_reports(web: Web) -> None:
    async with await web.signed_in(Scope.WRITE) as client:
        first = await client.get("/quality")
        assert "<svg" not in first.text and "No saved reports yet" in first.text
        await _pair(web, client)
        for _ in range(2):
            saved = await post(client, "/quality", "/quality/save", {})
            assert saved.status_code == 303
        page = await client.get("/quality?done=report-saved")
        assert "Saved the report" in page.text
        svg = page.text[page.text.index("<svg") : page.text.index("</svg>")]
        assert svg.count('<circle class="dot"') == 3  # two saved reports and now
        assert 'role="img"' in svg and "Quality score over 3 reports" in svg
        table = page.text[page.text.index('<table class="table trend">') :]
        table = table[: table.index("</table>")]
        assert "near duplicate</th>" in table
        # two saved reports with the near-duplicate and now: one finding of that kind in each row
        assert re.findall(r'<td class="num">(\d+)</td></tr>', table) == ["1", "1", "1"]


def test_chart_is_pure_svg_with_escaped_labels() -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    svg = trend_svg([ChartPoint(at + timedelta(days=i), s) for i, s in enumerate([90, 40, 120, -5])])
    assert svg.startswith("<svg") and "<script" not in svg and "style=" not in svg
    ys = [float(y) for y in re.findall(r'cy="([\d.]+)"', svg)]
    assert min(ys) >= 0 and max(ys) <= 220  # scores out of 0..100 stay inside the chart
    assert trend_svg([]) == ""
    one = trend_svg([ChartPoint(at, 70)])
    assert "over 1 report:" in one


async def test_reflect_shows_synthesis_with_cited_links_and_saves_with_write(web: Web) -> None:
    async with await web.signed_in(Scope.WRITE) as client:
        for text in (
            "The VPN moved to vpn2.corp in March",
            "VPN access needs the new client certificate",
            "The VPN gateway is restarted every Sunday night",
        ):
            await post(client, "/store", "/store", {"text": text, "tags": "vpn"})
        page = await client.get("/reflect", params={"topic": "vpn"})
        assert page.status_code == 200 and "Synthesis: vpn" in page.text
        assert re.search(r'<a href="/memories/\d+">#\d+</a>', page.text)
        assert "Timeline" in page.text and "Possible contradictions" in page.text
        assert (await web.core.recent("default", filters=None))[0].kind != "reflection"  # a dry run
        saved = await post(client, "/reflect?topic=vpn", "/reflect", {"topic": "vpn"})
        assert saved.status_code == 303 and "done=reflection-saved" in saved.headers["location"]
        reflection = await client.get(saved.headers["location"])
        assert "reflection" in reflection.text and "Saved the reflection as #" in reflection.text
        empty = await client.get("/reflect", params={"topic": "", "since": "2026-13-01"})
        assert empty.status_code == 422 and 'id="e-since"' in empty.text


async def test_a_read_key_reflects_without_saving(web: Web) -> None:
    from memory_core.testing import draft

    await web.core.store("default", draft("Releases go out on Tuesdays", tags=("release",)))
    async with await web.signed_in(Scope.READ) as reader:
        page = await reader.get("/reflect", params={"topic": "releases"})
        assert page.status_code == 200 and "Save as a reflection" not in page.text
        refused = await post(reader, "/reflect", "/reflect", {"topic": "releases"})
        assert refused.status_code == 422 and "write scope" in refused.text
