"""Sign-in, sessions and the security of every page: cookies, expiry, revocation, CSRF, headers, rate."""

from __future__ import annotations

import time

import pytest

from memory_core import Scope
from webui.sessions import sign_session

from .conftest import Web, csrf_of, make_web, post, signin

pytestmark = pytest.mark.anyio


async def test_pages_need_a_session_and_come_back_after_sign_in(web: Web) -> None:
    async with web.client() as client:
        asked = await client.get("/recent?page=2")
        assert asked.status_code == 303
        assert asked.headers["location"] == "/signin?next=%2Frecent%3Fpage%3D2"
        page = await client.get(asked.headers["location"])
        assert 'name="next" value="/recent?page=2"' in page.text
        wrong = await client.post(
            "/signin", data={"key": "nonsense", "csrf": csrf_of(page.text), "next": "/recent?page=2"}
        )
        assert wrong.status_code == 401 and 'name="next" value="/recent?page=2"' in wrong.text
        done = await client.post(
            "/signin",
            data={"key": await web.key(Scope.READ), "csrf": csrf_of(page.text), "next": "/recent?page=2"},
        )
        assert done.status_code == 303 and done.headers["location"] == "/recent?page=2"
        assert (await client.get("/recent?page=2")).status_code == 200


async def test_session_cookie_is_signed_httponly_samesite_with_expiry(web: Web) -> None:
    async with web.client() as client:
        done = await signin(client, await web.key())
        cookie = next(c for c in done.headers.get_list("set-cookie") if "_session=" in c)
        assert cookie.startswith("teamlore_session=")
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Max-Age=43200" in cookie
        assert "Secure" not in cookie  # plain http on loopback: a Secure cookie would never come back


async def test_https_public_url_makes_secure_host_cookies(core) -> None:  # type: ignore[no-untyped-def]
    web = make_web(core, public_url="https://lore.example.com")
    async with web.client() as client:
        done = await signin(client, await web.key())
        assert done.status_code == 303
        cookie = next(c for c in done.headers.get_list("set-cookie") if "_session=" in c)
        assert cookie.startswith("__Host-teamlore_session=") and "Secure" in cookie and "Path=/" in cookie
        assert (await client.get("/tags")).status_code == 200


async def test_wrong_malformed_and_revoked_keys_get_a_clear_message_and_no_session(web: Web) -> None:
    secret = await web.key()
    await web.keys.revoke(secret)
    async with web.client() as client:
        for key, message in [
            ("nonsense", "this is not a teamlore API key"),
            ("tlk_00000000_" + "a" * 43, "unknown API key"),
            (secret, "was revoked"),
        ]:
            answer = await signin(client, key)
            assert answer.status_code == 401
            assert message in answer.text and key not in answer.text
            assert "teamlore_session" not in answer.headers.get("set-cookie", "")
        assert (await client.get("/search")).status_code == 303


async def test_revoked_key_ends_its_open_sessions_at_the_next_request(web: Web) -> None:
    secret = await web.key(Scope.ADMIN)
    async with web.client() as client:
        await signin(client, secret)
        assert (await client.get("/stats")).status_code == 200
        await web.keys.revoke(secret)
        ended = await client.get("/stats")
        assert ended.status_code == 303 and "why=revoked" in ended.headers["location"]
        again = await client.get(ended.headers["location"])
        assert "was revoked" in again.text


async def test_expired_or_forged_session_returns_to_sign_in_then_to_the_page(web: Web) -> None:
    _secret, info = await web.keys.create("default", Scope.READ, "old")
    async with web.client() as client:
        old = sign_session(await web.ui.secret(), info.id, int(time.time()) - 1)
        client.cookies.set("teamlore_session", old)
        expired = await client.get("/tags")
        assert expired.status_code == 303
        assert expired.headers["location"] == "/signin?next=%2Ftags&why=expired"
        client.cookies.set(
            "teamlore_session", sign_session(b"not our secret" * 3, info.id, int(time.time()) + 99)
        )
        forged = await client.get("/tags")
        assert forged.status_code == 303 and "why=invalid" in forged.headers["location"]


async def test_sign_in_never_redirects_off_site(web: Web) -> None:
    async with web.client() as client:
        for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
            done = await signin(client, await web.key(), next_=target)
            assert done.headers["location"] == "/"


async def test_sign_in_attempts_are_rate_limited(core) -> None:  # type: ignore[no-untyped-def]
    web = make_web(core, signin_attempts_per_minute=3)
    async with web.client() as client:
        codes = [(await signin(client, "tlk_00000000_" + "b" * 43)).status_code for _ in range(4)]
        assert codes == [401, 401, 401, 429]
        limited = await signin(client, await web.key())
        assert limited.status_code == 429 and "Too many sign-in attempts" in limited.text


async def test_sign_in_form_needs_its_csrf_token(web: Web) -> None:
    async with web.client() as client:
        await client.get("/signin")
        answer = await client.post("/signin", data={"key": await web.key(), "csrf": "forged"})
        assert answer.status_code == 403 and "teamlore_session" not in answer.headers.get("set-cookie", "")


async def test_every_state_change_needs_the_csrf_token_and_this_origin(web: Web) -> None:
    client = await web.signed_in(Scope.ADMIN)
    async with client:
        token = csrf_of((await client.get("/store")).text)
        posts = [
            ("/store", {"text": "a fact"}),
            ("/quality/save", {}),
            ("/quality/fix", {"action": "forget", "id": "1"}),
            ("/reflect", {"topic": "x"}),
            ("/admin/keys", {"scope": "read"}),
            ("/admin/keys/1/revoke", {}),
            ("/memories/1/edit", {"text": "x"}),
            ("/memories/1/forget", {}),
        ]
        for url, data in posts:
            refused = await client.post(url, data=data)
            assert refused.status_code == 403, url
            assert "out of date" in refused.text
        cross = await client.post(
            "/store", data={"text": "a fact", "csrf": token}, headers={"origin": "https://evil.example"}
        )
        assert cross.status_code == 403 and "another site" in cross.text
        assert await web.core.recent("default") == []
        signed_out = await client.post("/signout", data={"csrf": "forged"})
        assert signed_out.status_code == 403


async def test_sign_out_ends_the_session(web: Web) -> None:
    client = await web.signed_in(Scope.READ)
    async with client:
        done = await post(client, "/search", "/signout", {})
        assert done.status_code == 303 and done.headers["location"] == "/signin?why=signed-out"
        assert (await client.get("/search")).status_code == 303
        assert "You are signed out" in (await client.get("/signin?why=signed-out")).text


async def test_security_headers_on_every_page(web: Web) -> None:
    client = await web.signed_in(Scope.READ)
    async with client:
        for url in ("/search", "/signin", "/nope", "/static/style.css"):
            response = await client.get(url)
            csp = response.headers["content-security-policy"]
            assert (
                "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp and "default-src 'none'" in csp
            )
            assert response.headers["x-frame-options"] == "DENY"
            assert response.headers["x-content-type-options"] == "nosniff"
        assert (await client.get("/search")).headers["cache-control"] == "no-store"


async def test_one_time_sign_in_link_works_once(web: Web) -> None:
    from webui import sign_link

    _secret, info = await web.keys.create("default", Scope.READ, "web link")
    token = sign_link(await web.ui.secret(), info.id, int(time.time()) + 600)
    async with web.client() as client:
        shown = await client.get(f"/signin/link?token={token}")
        assert shown.status_code == 200 and "signs you in once" in shown.text
        used = await client.post("/signin/link", data={"token": token, "csrf": csrf_of(shown.text)})
        assert used.status_code == 303 and (await client.get("/tags")).status_code == 200
    async with web.client() as other:
        shown = await other.get(f"/signin/link?token={token}")
        again = await other.post("/signin/link", data={"token": token, "csrf": csrf_of(shown.text)})
        assert again.status_code == 401 and "used already" in again.text
        expired = sign_link(await web.ui.secret(), info.id, int(time.time()) - 1)
        shown = await other.get(f"/signin/link?token={expired}")
        late = await other.post("/signin/link", data={"token": expired, "csrf": csrf_of(shown.text)})
        assert late.status_code == 401 and "expired" in late.text
