"""Search, recent, tags, stats, one memory, store, edit and forget through the ASGI app, per scope."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from markupsafe import escape

from memory_core import Importance, MemoryCore, MemoryPatch, Scope, Source
from memory_core.testing import draft

from .conftest import Web, csrf_of, make_web, post

pytestmark = pytest.mark.anyio

XSS = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">'


async def test_store_then_find_it_with_the_score_breakdown(web: Web) -> None:
    async with await web.signed_in(Scope.WRITE) as client:
        data = {"text": "The VPN moved to vpn2.corp on Monday", "tags": "infra, #VPN", "importance": "high"}
        stored = await post(client, "/store", "/store", {**data, "kind": "decision"})
        assert stored.status_code == 200 and 'Stored as <a href="/memories/1">#1</a>' in stored.text
        memory = await web.core.get("default", 1)
        assert memory.tags == ("infra", "vpn") and memory.importance is Importance.HIGH
        assert memory.source is Source.WEB and memory.author_id and memory.author_id.startswith("apikey:")
        found = await client.get("/search", params={"q": "where is the vpn"})
        assert found.status_code == 200 and "1 hit for" in found.text
        assert "The VPN moved to vpn2.corp on Monday" in found.text
        assert "Score breakdown of #1" in found.text and "Recency boost" in found.text


async def test_store_answers_duplicates_and_keeps_what_was_typed_on_errors(web: Web) -> None:
    async with await web.signed_in(Scope.WRITE) as client:
        await post(client, "/store", "/store", {"text": "Deploys freeze on Fridays"})
        again = await post(client, "/store", "/store", {"text": "Deploys freeze on Fridays", "tags": "ops"})
        assert "Already remembered as" in again.text and "#1" in again.text
        assert 'value="ops"' in again.text  # the form keeps what was typed
        secret = await post(
            client, "/store", "/store", {"text": "the prod password is hunter2hunter2", "tags": "keepme"}
        )
        assert secret.status_code == 422
        field = re.search(r'<p class="error" id="e-text">(.*?)</p>', secret.text)
        assert field and "secret" in field.group(1)
        assert (
            "the prod password is hunter2hunter2</textarea>" in secret.text
            and 'value="keepme"' in secret.text
        )
        for data, name in [
            ({"text": "a fact about kinds", "kind": "Not A Kind!"}, "kind"),
            ({"text": "a fact with a bad date", "expires": "31/01/2026"}, "expires"),
            ({"text": "a fact that expired", "expires": "2020-01-01"}, "expires"),
            ({"text": "a fact", "importance": "huge"}, "importance"),
            ({"text": "   "}, "text"),
        ]:
            bad = await post(client, "/store", "/store", data)
            assert bad.status_code == 422, data
            assert f'id="e-{name}"' in bad.text, data
            if data["text"].strip():
                assert data["text"] in bad.text
        assert [m.id for m in await web.core.recent("default")] == [1]


async def test_store_redacted_on_request(web: Web) -> None:
    async with await web.signed_in(Scope.WRITE) as client:
        done = await post(
            client, "/store", "/store", {"text": "the prod password is hunter2hunter2", "redact": "on"}
        )
        assert done.status_code == 200 and "Redacted:" in done.text
        assert "hunter2hunter2" not in (await web.core.get("default", 1)).text


async def test_search_filters_narrow_and_bad_filters_are_shown_next_to_their_field(web: Web) -> None:
    core = web.core
    old = datetime(2025, 3, 1, tzinfo=UTC)
    await core.store(
        "default", draft("The backup job runs nightly", tags=("ops",), kind="note", created_at=old)
    )
    await core.store(
        "default",
        draft("The backup job was moved to noon", tags=("ops", "db"), kind="decision", author="bob"),
    )
    await core.store("default", draft("The backup bucket is in eu-west", source=Source.SLACK))
    async with await web.signed_in(Scope.READ) as client:

        async def ids(**params: str) -> list[int]:
            page = await client.get("/search", params={"q": "backup job", **params})
            assert page.status_code == 200, page.text
            return sorted(int(i) for i in re.findall(r'<h3 id="m-(\d+)">', page.text))

        assert await ids() == [1, 2, 3]
        assert await ids(tags="db") == [2]
        assert await ids(kind="decision") == [2]
        assert await ids(source="slack") == [3]
        assert await ids(author="bob") == [2]
        assert await ids(until="2025-12-31") == [1]
        assert await ids(since="2026-01-01") == [2, 3]
        assert await ids(limit="1", mode="keyword") != []
        browse = await client.get("/search", params={"tags": "ops"})
        assert "2 memories, newest first" in browse.text
        bad = await client.get("/search", params={"q": "backup", "since": "yesterday", "limit": "500"})
        assert bad.status_code == 422
        assert 'id="e-since"' in bad.text and 'id="e-limit"' in bad.text and 'value="yesterday"' in bad.text
        long = await client.get("/search", params={"q": "x" * 3000})
        assert long.status_code == 422 and 'id="e-q"' in long.text


async def test_recent_is_paged(core: MemoryCore) -> None:
    web = make_web(core, page_size=5)
    for i in range(7):
        await core.store("default", draft(f"fact number {i} about paging"))
    async with await web.signed_in(Scope.READ) as client:
        first = await client.get("/recent")
        assert len(re.findall(r'<h3 id="m-', first.text)) == 5 and 'href="/recent?page=2"' in first.text
        second = await client.get("/recent?page=2")
        assert sorted(re.findall(r'<h3 id="m-(\d+)"', second.text)) == ["1", "2"]
        assert 'href="/recent?page=1"' in second.text and "page=3" not in second.text
        assert (await client.get("/recent?page=x")).status_code == 200


async def test_tags_and_stats(web: Web) -> None:
    await web.core.store("default", draft("one fact", tags=("infra", "vpn")))
    await web.core.store("default", draft("another fact", tags=("infra",)))
    async with await web.signed_in(Scope.READ) as client:
        tags = await client.get("/tags")
        assert re.search(r"#infra</a></td><td class=\"num\">2<", tags.text)
        stats = await client.get("/stats")
        assert "<dt>Memories</dt><dd>2</dd>" in stats.text and "test-hashing" in stats.text


async def test_one_memory_shows_every_field_and_its_links(web: Web) -> None:
    core = web.core
    old = await core.store("default", draft("The wiki lives on Confluence", source_ref="javascript:alert(1)"))
    new = await core.store(
        "default",
        draft(
            "The wiki moved to Notion",
            source=Source.SLACK,
            source_ref="https://acme.slack.com/archives/C1/p1",
            title="wiki thread",
            supersedes=old.id,
        ),
    )
    await core.update("default", old.id, MemoryPatch(superseded_by=new.id), actor=_admin())
    async with await web.signed_in(Scope.READ) as client:
        page = await client.get(f"/memories/{new.id}")
        assert page.status_code == 200
        assert 'href="https://acme.slack.com/archives/C1/p1"' in page.text and "wiki thread" in page.text
        assert f'href="/memories/{old.id}"' in page.text and "The wiki lives on Confluence" in page.text
        for label in (
            "Importance",
            "Author",
            "Stored",
            "Changed",
            "Expires",
            "Reads",
            "Supersedes",
            "Superseded by",
        ):
            assert f"<dt>{label}</dt>" in page.text
        older = await client.get(f"/memories/{old.id}")
        assert f'Superseded by <a href="/memories/{new.id}">' in older.text
        assert 'href="javascript:' not in older.text and "<code>javascript:alert(1)</code>" in older.text
        assert "Edit</a>" not in page.text  # a read key sees no edit or forget
        missing = await client.get("/memories/999")
        assert missing.status_code == 404 and "No memory #999." in missing.text
        assert (await client.get("/memories/abc")).status_code == 422


def _admin():  # type: ignore[no-untyped-def]
    from memory_core import Actor

    return Actor(id="test:admin", is_admin=True)


async def test_edit_changes_every_field_and_keeps_bad_input(web: Web) -> None:
    async with await web.signed_in(Scope.WRITE) as client:
        await post(client, "/store", "/store", {"text": "The office opens at 9", "tags": "office"})
        await web.core.store("default", draft("The office closes at 18"))
        form = await client.get("/memories/1/edit")
        assert form.status_code == 200 and "The office opens at 9</textarea>" in form.text
        expires = (datetime.now(UTC) + timedelta(days=10)).date().isoformat()
        data = {
            "text": "The office opens at 8",
            "tags": "office, hours",
            "importance": "high",
            "kind": "decision",
        }
        saved = await post(client, "/memories/1/edit", "/memories/1/edit", {**data, "expires": expires})
        assert saved.status_code == 303 and saved.headers["location"] == "/memories/1?done=edited&id=1"
        memory = await web.core.get("default", 1)
        assert (memory.text, memory.tags, memory.importance, memory.kind) == (
            "The office opens at 8", ("office", "hours"), Importance.HIGH, "decision",
        )  # fmt: skip
        assert memory.expires_at and memory.expires_at.date().isoformat() == expires
        assert "Saved #1." in (await client.get(saved.headers["location"])).text
        cleared = await post(client, "/memories/1/edit", "/memories/1/edit", {**data, "no_expiry": "on"})
        assert cleared.status_code == 303 and (await web.core.get("default", 1)).expires_at is None
        clash = await post(
            client, "/memories/1/edit", "/memories/1/edit", {**data, "text": "The office closes at 18"}
        )
        assert clash.status_code == 422 and "already remembered as #2" in clash.text
        assert "The office closes at 18</textarea>" in clash.text
        bad = await post(client, "/memories/1/edit", "/memories/1/edit", {**data, "kind": "?!"})
        assert bad.status_code == 422 and 'id="e-kind"' in bad.text and 'value="?!"' in bad.text
        someone_elses = await client.get("/memories/2/edit")
        assert someone_elses.status_code == 403 and "or an admin" in someone_elses.text


async def test_forget_asks_first_then_deletes_and_the_audit_log_shows_it(web: Web) -> None:
    async with await web.signed_in(Scope.WRITE) as client:
        await post(client, "/store", "/store", {"text": "A memory to forget"})
        confirm = await client.get("/memories/1/forget")
        assert confirm.status_code == 200 and "Forget #1?" in confirm.text
        assert await web.core.get_many("default", [1])  # asking deleted nothing
        done = await post(client, "/memories/1/forget", "/memories/1/forget", {})
        assert done.status_code == 303 and (await web.core.get_many("default", [1])) == []
        assert "Forgot #1." in (await client.get(done.headers["location"])).text
    async with await web.signed_in(Scope.ADMIN) as admin:
        audit = await admin.get("/admin/audit")
        assert "#1" in audit.text and "apikey:" in audit.text


async def test_a_read_key_cannot_store_edit_or_forget(web: Web) -> None:
    await web.core.store("default", draft("A fact a reader may only read"))
    async with await web.signed_in(Scope.READ) as client:
        token = re.search(r'name="csrf" value="([^"]+)"', (await client.get("/search")).text)
        assert token
        for url in ("/store", "/memories/1/edit", "/memories/1/forget"):
            page = await client.get(url)
            assert page.status_code == 403 and "read scope" in page.text, url
            sent = await client.post(url, data={"csrf": token.group(1), "text": "changed"})
            assert sent.status_code == 403, url
        assert (await web.core.get("default", 1)).text == "A fact a reader may only read"
        assert 'href="/store"' not in (await client.get("/search")).text


async def test_an_admin_key_may_change_anyones_memory(web: Web) -> None:
    await web.core.store("default", draft("Someone else's fact"))
    async with await web.signed_in(Scope.ADMIN) as client:
        page = await client.get("/memories/1")
        assert 'href="/memories/1/edit"' in page.text
        done = await post(client, "/memories/1/forget", "/memories/1/forget", {})
        assert done.status_code == 303


async def test_stored_markup_is_shown_as_text_everywhere(web: Web) -> None:
    await web.core.store("default", draft(XSS + " about the vpn", tags=("vpn",), title="<b>subject</b>"))
    await web.core.store("default", draft(XSS + " about the vpn too", tags=("vpn",)))
    async with await web.signed_in(Scope.ADMIN) as client:
        for url in (
            "/search?q=vpn",
            "/recent",
            "/memories/1",
            "/memories/1/edit",
            "/quality",
            "/reflect?topic=vpn",
        ):
            page = await client.get(url)
            assert page.status_code == 200, url
            assert "<script>window" not in page.text and "<img src=x" not in page.text, url
        assert str(escape(XSS)) in (await client.get("/memories/1")).text


async def test_no_page_shows_another_tenants_memory(web: Web) -> None:
    await web.core.store("acme", draft("Acme's secret plan for the launch"))
    async with await web.signed_in(Scope.ADMIN, tenant="globex") as client:
        assert (await client.get("/memories/1")).status_code == 404
        searched = await client.get("/search?q=acme launch")
        assert "0 hits for" in searched.text and "secret plan" not in searched.text
        assert "secret plan" not in (await client.get("/recent")).text
        assert "secret plan" not in (await client.get("/quality")).text
        assert (await client.get("/memories/1/edit")).status_code == 404
        forget = await post(client, "/search", "/memories/1/forget", {})
        assert forget.status_code == 404
    assert await web.core.get("acme", 1)


async def test_unknown_pages_and_the_other_parts_of_the_server(web: Web) -> None:
    async with await web.signed_in(Scope.READ) as client:
        page = await client.get("/no-such-page")
        assert page.status_code == 404 and "There is no page here." in page.text
        api = await client.get("/api/v1/no-such-thing")
        assert api.status_code == 404 and api.json() == {"detail": "Not Found"}
        assert (await client.get("/healthz")).json() == {"status": "ok"}
        assert (await client.get("/")).headers["location"] == "/search"
        assert (await client.get("/static/style.css")).headers["content-type"].startswith("text/css")


# Every page a GET reaches, and what each scope gets there (200 shown, 403 refused).
PAGES = {
    "/search": (200, 200, 200),
    "/search?q=fact": (200, 200, 200),
    "/recent": (200, 200, 200),
    "/tags": (200, 200, 200),
    "/stats": (200, 200, 200),
    "/memories/1": (200, 200, 200),
    "/quality": (200, 200, 200),
    "/reflect": (200, 200, 200),
    "/reflect?topic=fact": (200, 200, 200),
    "/store": (403, 200, 200),
    "/memories/1/edit": (403, 403, 200),  # the writer's key did not store #1
    "/memories/1/forget": (403, 403, 200),
    "/admin/audit": (403, 403, 200),
    "/admin/keys": (403, 403, 200),
}


@pytest.mark.parametrize("scope", [Scope.READ, Scope.WRITE, Scope.ADMIN])
async def test_every_page_for_every_scope(web: Web, scope: Scope) -> None:
    await web.core.store("default", draft("A fact for every page"))
    async with await web.signed_in(scope) as client:
        for url, statuses in PAGES.items():
            page = await client.get(url)
            expected = statuses[[Scope.READ, Scope.WRITE, Scope.ADMIN].index(scope)]
            assert page.status_code == expected, (url, scope, page.text[-400:])
            assert page.headers["content-type"].startswith("text/html")
            assert "<main" in page.text
    async with web.client() as anonymous:
        for url in PAGES:
            assert (await anonymous.get(url)).status_code == 303, url


async def test_too_long_text_and_too_large_forms(web: Web) -> None:
    async with await web.signed_in(Scope.WRITE) as client:
        long = await post(client, "/store", "/store", {"text": "word " * 5000})
        assert long.status_code == 422 and 'id="e-text"' in long.text and "characters" in long.text
        huge = await post(client, "/store", "/store", {"text": "x" * 2_000_000})
        assert huge.status_code == 413 and "over 1,048,576 bytes" in huge.text
        page = await client.get("/signin")
        too_big = await client.post("/signin", data={"key": "k" * 2_000_000, "csrf": csrf_of(page.text)})
        assert too_big.status_code == 413
    assert await web.core.recent("default") == []


async def test_unexpected_and_transient_errors_become_pages(
    web: Web, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from memory_core import Unavailable

    async with await web.signed_in(Scope.READ) as client:

        async def broken(*_args: object, **_kwargs: object) -> None:
            raise RuntimeError("a bug with a secret detail")

        monkeypatch.setattr(web.core, "stats", broken)
        with caplog.at_level("ERROR", logger="webui.errors"):
            page = await client.get("/stats")
        assert page.status_code == 500 and "a secret detail" not in page.text
        ref = re.search(r"Something went wrong \(ref ([0-9a-f]{6})\)\.", page.text)
        assert ref and ref.group(1) in caplog.text

        async def busy(*_args: object, **_kwargs: object) -> None:
            raise Unavailable("the memory database is busy")

        monkeypatch.setattr(web.core, "list_tags", busy)
        page = await client.get("/tags")
        assert page.status_code == 503 and "Memory is busy, try again in a minute." in page.text
        wrong_method = await client.post("/search")
        assert wrong_method.status_code == 405 and "<main" in wrong_method.text


async def test_store_a_memory_that_supersedes_an_older_one(web: Web) -> None:
    old = await web.core.store("default", draft("Standup is at 9:30"))
    async with await web.signed_in(Scope.WRITE) as client:
        done = await post(
            client, "/store", "/store", {"text": "Standup is at 9:45", "supersedes": f"#{old.id}"}
        )
        assert done.status_code == 200 and "Stored as" in done.text
        assert (await web.core.get("default", old.id)).superseded_by == 2
        assert 'Supersedes</dt><dd><a href="/memories/1">#1</a>' in (await client.get("/memories/2")).text
        for value, message in [("abc", "the id of the memory"), ("999", "no memory #999 to replace")]:
            bad = await post(
                client, "/store", "/store", {"text": f"Standup moves again {value}", "supersedes": value}
            )
            assert bad.status_code == 422 and 'id="e-supersedes"' in bad.text and message in bad.text
            assert f'value="{value}"' in bad.text


async def test_store_warns_of_a_probable_contradiction_and_takes_supersedes(web: Web) -> None:
    async with await web.signed_in(Scope.WRITE) as client:
        await post(client, "/store", "/store", {"text": "Backups are kept for 35 days."})
        warned = await post(client, "/store", "/store", {"text": "Backups are kept for 14 days now."})
        assert "Warning: this may contradict #1 by " in warned.text
        assert 'name="old" value="1"' in warned.text and 'name="new" value="2"' in warned.text
        again = await post(
            client, "/store", "/store", {"text": "Backups are kept for 14 days now.", "supersedes": "#1"}
        )
        assert "Already remembered as" in again.text and "It replaces" in again.text
        assert (await web.core.get("default", 1)).superseded_by == 2
        bad = await post(client, "/store", "/store", {"text": "another fact", "supersedes": "twelve"})
        assert bad.status_code == 422 and 'id="e-supersedes"' in bad.text
