"""End to end in a real headless Chromium against `teamlore serve`: what a person does in the web app."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
from playwright.sync_api import Page, expect

from .conftest import Server, shot, sign_in

FIRST = "the staging database password rotation happens every first monday of the month at noon"
SECOND = FIRST + " utc"
XSS = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2"> about the badge printer'


def _store(page: Page, text: str, tags: str = "") -> int:
    page.goto("/store")
    page.get_by_label("What to remember").fill(text)
    page.get_by_label("Tags").fill(tags)
    page.get_by_role("button", name="Store", exact=True).click()
    stored = page.get_by_role("status")
    expect(stored).to_contain_text("Stored as #")
    return int(re.search(r"#(\d+)", stored.inner_text()).group(1))  # type: ignore[union-attr]


def test_a_day_in_the_web_app(page: Page, server: Server) -> None:
    page.goto("/recent")
    expect(page).to_have_url(re.compile(r"/signin\?next=%2Frecent$"))
    shot(page, "signin")
    page.get_by_label("API key").fill(server.keys["write"])
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/recent$"))

    # store, then search and find it, with its score breakdown on demand
    memory_id = _store(page, "The VPN moved to vpn2.corp on Monday; use the new client profile", "infra, vpn")
    shot(page, "store")
    page.get_by_role("link", name="Search").click()
    page.get_by_label("Question").fill("where did the vpn move")
    page.get_by_role("button", name="Search").click()
    hit = page.locator("article.memory", has_text="vpn2.corp")
    expect(hit).to_be_visible()
    expect(hit.get_by_text("Recency boost")).to_be_hidden()
    hit.get_by_text("why?").click()
    expect(hit.get_by_text("Recency boost")).to_be_visible()
    shot(page, "search")

    # open it, edit it
    hit.get_by_role("link", name=f"#{memory_id}").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Memory #{memory_id}")
    shot(page, "memory")
    page.get_by_role("link", name="Edit").click()
    page.get_by_label("Text").fill("The VPN moved to vpn2.corp on Monday; the old one is off on Friday")
    page.get_by_label("Importance").select_option("high")
    shot(page, "edit")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text(f"Saved #{memory_id}.")
    expect(page.locator("blockquote")).to_contain_text("the old one is off on Friday")

    # a near-duplicate in the quality page, fixed with one click
    first, second = _store(page, FIRST), _store(page, SECOND)
    page.get_by_role("link", name="Quality").click()
    group = page.locator("#k-near_duplicate")
    expect(group).to_contain_text(FIRST)
    shot(page, "quality")
    group.get_by_role("button", name=f"#{second} supersedes #{first}").click()
    expect(page.get_by_role("status")).to_have_text(f"#{first} is now marked as superseded by #{second}.")
    expect(page.locator("#k-near_duplicate")).to_have_count(0)

    # the trend chart after two saved reports
    for _ in range(2):
        page.get_by_role("button", name="Save this report to the trend").click()
        expect(page.get_by_role("status")).to_contain_text("Saved the report")
    chart = page.locator("svg.chart")
    expect(chart).to_be_visible()
    expect(chart.locator("circle.dot")).to_have_count(3)
    assert chart.bounding_box()["width"] > 300  # type: ignore[index]
    shot(page, "quality-trend")

    # reflect: the synthesis cites its sources as links
    page.get_by_role("link", name="Reflect").click()
    page.get_by_label("Topic").fill("vpn")
    page.get_by_role("button", name="Reflect").click()
    expect(page.get_by_role("heading", name="Synthesis: vpn")).to_be_visible()
    expect(page.locator(f".reflection a[href='/memories/{memory_id}']").first).to_be_visible()
    shot(page, "reflect")

    # forget, with a confirmation
    page.goto(f"/memories/{memory_id}")
    page.get_by_role("link", name="Forget…").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Forget #{memory_id}?")
    page.get_by_role("button", name=f"Forget #{memory_id}").click()
    expect(page.get_by_role("status")).to_have_text(f"Forgot #{memory_id}.")
    page.goto(f"/memories/{memory_id}")
    expect(page.get_by_role("alert")).to_have_text(f"No memory #{memory_id}.")

    # sign out
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("status")).to_have_text("You are signed out.")
    page.goto("/search")
    expect(page).to_have_url(re.compile(r"/signin\?next=%2Fsearch$"))


def test_a_stored_script_executes_nothing(page: Page, server: Server) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    sign_in(page, server.keys["write"])
    memory_id = _store(page, XSS, "printer")
    for url in (f"/memories/{memory_id}", "/search?q=badge+printer", "/recent"):
        page.goto(url)
        expect(page.get_by_text("<script>window.__pwned = 1</script>", exact=False).first).to_be_visible()
        assert page.evaluate("() => window.__pwned") is None, url
        assert page.locator("main script, main img[src=x]").count() == 0, url
    assert dialogs == []


def test_a_read_key_cannot_reach_edit_or_forget(page: Page, server: Server) -> None:
    stored = httpx.post(
        f"{server.url}/api/v1/memories",
        json={"text": "Lunch is at 12:30 in the big room"},
        headers={"Authorization": f"Bearer {server.keys['write']}"},
    )
    memory_id = stored.json()["id"]
    sign_in(page, server.keys["read"])
    page.goto(f"/memories/{memory_id}")
    expect(page.locator("blockquote")).to_have_text("Lunch is at 12:30 in the big room")
    expect(page.get_by_role("link", name="Edit")).to_have_count(0)
    expect(page.get_by_role("link", name="Forget…")).to_have_count(0)
    expect(page.get_by_role("link", name="Store")).to_have_count(0)
    for action in ("edit", "forget"):
        page.goto(f"/memories/{memory_id}/{action}")
        expect(page.get_by_role("heading", level=1)).to_have_text("Not allowed")
        expect(page.get_by_role("alert")).to_contain_text("read scope")
    page.goto(f"/memories/{memory_id}")
    expect(page.locator("blockquote")).to_have_text("Lunch is at 12:30 in the big room")


def test_admin_keys_page_shows_a_new_key_once(page: Page, server: Server) -> None:
    sign_in(page, server.keys["admin"], "/admin/keys")
    page.get_by_label("Name").fill("ci-bot")
    page.get_by_label("Scope").select_option("read")
    page.get_by_role("button", name="Create key").click()
    new_key = page.get_by_label("New key")
    expect(new_key).to_have_value(re.compile(r"^tlk_[0-9a-f]{8}_"))
    shot(page, "keys")
    page.goto("/admin/keys")
    expect(page.get_by_label("New key")).to_have_count(0)
    expect(page.get_by_role("row", name=re.compile("ci-bot"))).to_have_count(1)
    page.get_by_role("link", name="Audit log").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Audit log")
    shot(page, "audit")


def test_keyboard_labels_and_a_phone_in_dark_mode(browser, server: Server) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(
        base_url=server.url, viewport={"width": 390, "height": 844}, color_scheme="dark", is_mobile=True
    )
    page = context.new_page()
    try:
        sign_in(page, server.keys["write"])
        page.keyboard.press("Tab")
        assert page.evaluate("() => document.activeElement.textContent") == "Skip to content"
        page.keyboard.press("Enter")
        unlabelled = page.evaluate(
            """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
                 .filter(e => !(e.labels && e.labels.length)).map(e => e.name)"""
        )
        assert unlabelled == []
        assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
        background = page.evaluate("() => getComputedStyle(document.body).backgroundColor")
        assert background == "rgb(15, 18, 23)"  # the dark palette
        shot(page, "search-phone-dark", full_page=False)
    finally:
        context.close()


CONTRAST = (Path(__file__).with_name("contrast.js")).read_text()


def test_text_contrast_meets_wcag_aa_in_light_and_dark(browser, server: Server) -> None:  # type: ignore[no-untyped-def]
    for scheme in ("light", "dark"):
        context = browser.new_context(base_url=server.url, color_scheme=scheme)
        page = context.new_page()
        try:
            sign_in(page, server.keys["admin"])
            stored = _store(
                page, f"Contrast check in {scheme} mode: the coffee machine is descaled on Fridays"
            )
            for url in (
                "/search?q=coffee+machine",
                "/quality",
                "/admin/keys",
                f"/memories/{stored}",
                "/nope",
            ):
                page.goto(url)
                measured = page.evaluate(CONTRAST)
                assert len(measured) > 10, measured  # the check saw the page's text
                low = [(what, round(r, 2)) for what, r in measured if r < 4.5]
                assert low == [], (scheme, url, low)
        finally:
            context.close()
