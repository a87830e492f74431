"""The HTTP endpoint end to end: requests built and signed as Slack sends them, to uvicorn on 127.0.0.1.

The Web API and every response_url point at RecordingSlack, which records what teamlore posts.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

import anyio
import pytest

from bots.slack.blocks import SHARE_ACTION
from memory_core import Memory, MemoryCore, Source, TenantIdentities, TenantMap
from tests.bots.slack.fake_slack import (
    app_mention,
    block_action,
    event_callback,
    message_shortcut,
    signed_headers,
    slash_command,
)

from .slack_support import SECRET, Endpoint, Serve

pytestmark = pytest.mark.anyio


async def memories(core: MemoryCore, tenant: str = "default") -> list[Memory]:
    return await core.recent(tenant, limit=200)


def dumped(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False)


async def command(endpoint: Endpoint, name: str, text: str, key: str, **fields: Any) -> dict[str, Any]:
    """Run a slash command; return what teamlore posted to its response_url."""
    body = slash_command(name, text, response_url=endpoint.response_url(key), **fields)
    response = await endpoint.post(body)
    assert response.status_code == 200, response.text
    await endpoint.slack.wait_for(lambda slack: bool(slack.of(f"respond:{key}")))
    return endpoint.slack.of(f"respond:{key}")[0].data


async def test_store_is_acknowledged_then_answered_on_the_response_url(endpoint: Endpoint) -> None:
    body = slash_command(
        "/store", "the VPN moved to vpn2.corp #infra !high", response_url=endpoint.response_url("s1")
    )
    response = await endpoint.post(body)

    assert response.status_code == 200
    assert response.text == ""  # the ack carries nothing; the answer comes on the response_url
    await endpoint.slack.wait_for(lambda slack: bool(slack.of("respond:s1")))
    answer = endpoint.slack.of("respond:s1")[0].data
    [memory] = await memories(endpoint.core)
    assert f"Remembered as #{memory.id}" in answer["text"]
    assert answer["response_type"] == "ephemeral"
    assert memory.text == "the VPN moved to vpn2.corp"
    assert memory.tags == ("infra",)
    assert memory.importance.value == "high"
    assert memory.source is Source.SLACK
    assert memory.author == "alice"
    assert memory.author_id == "slack:T0001:U0001"
    assert memory.source_ref == "https://acme.slack.com/archives/C0001"


async def test_query_answer_names_id_author_and_link_and_can_be_shared(endpoint: Endpoint) -> None:
    await command(endpoint, "/store", "deploys happen on tuesdays and thursdays #release", "s1")
    answer = await command(endpoint, "/query", "when do deploys happen?", "q1")

    [memory] = await memories(endpoint.core)
    assert answer["response_type"] == "ephemeral"
    text = dumped(answer)
    assert f"*#{memory.id}*" in text
    assert "alice" in text
    assert "`#release`" in text
    assert "<https://acme.slack.com/archives/C0001|Slack channel>" in text
    assert "deploys happen on tuesdays and thursdays" in text
    [actions] = [block for block in answer["blocks"] if block["type"] == "actions"]
    button = actions["elements"][0]
    assert button["action_id"] == SHARE_ACTION

    click = block_action(SHARE_ACTION, button["value"], response_url=endpoint.response_url("share1"))
    response = await endpoint.post(click)
    assert response.status_code == 200
    await endpoint.slack.wait_for(lambda slack: len(slack.of("respond:share1")) == 2)
    posted, deleted = (call.data for call in endpoint.slack.of("respond:share1"))
    assert posted["response_type"] == "in_channel"
    assert "deploys happen on tuesdays and thursdays" in dumped(posted)
    assert "*alice* shared 1 memory" in dumped(posted)
    assert not [block for block in posted["blocks"] if block["type"] == "actions"]  # no button in the channel
    assert deleted["delete_original"] is True


async def test_share_does_not_post_a_memory_forgotten_since(endpoint: Endpoint) -> None:
    await command(endpoint, "/store", "the wiki lives at wiki.acme.example", "s1")
    answer = await command(endpoint, "/query", "where is the wiki?", "q1")
    [memory] = await memories(endpoint.core)
    await command(endpoint, "/forget", f"#{memory.id}", "f1")

    value = next(b for b in answer["blocks"] if b["type"] == "actions")["elements"][0]["value"]
    await endpoint.post(block_action(SHARE_ACTION, value, response_url=endpoint.response_url("share")))
    await endpoint.slack.wait_for(lambda slack: bool(slack.of("respond:share")))
    assert "wiki.acme.example" not in dumped(endpoint.slack.of("respond:share")[0].data)


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"X-Slack-Signature": "v0=" + "0" * 64}, id="forged"),
        pytest.param({}, id="missing"),
        pytest.param("stale", id="stale"),
        pytest.param("other-secret", id="wrong-secret"),
    ],
)
async def test_bad_signatures_get_401_and_store_nothing(endpoint: Endpoint, headers: Any) -> None:
    body = slash_command("/store", "an attacker's memory", response_url=endpoint.response_url("x"))
    if headers == "stale":  # correctly signed, six minutes old
        sent = signed_headers(SECRET, body, timestamp=int(time.time()) - 360)
    elif headers == "other-secret":
        sent = signed_headers("0123456789abcdef0123456789abcdef", body)
    else:
        sent = {"Content-Type": "application/x-www-form-urlencoded", **headers}
        if headers:
            sent["X-Slack-Request-Timestamp"] = str(int(time.time()))

    response = await endpoint.post(body, headers=sent)

    assert response.status_code == 401
    assert await memories(endpoint.core) == []
    assert endpoint.slack.responses() == []


@pytest.mark.parametrize("timestamp", ["abc", "1.5", "", "-1", "1e9", "0x10", "9" * 40, None])
async def test_junk_timestamps_get_401_logged_at_info_without_a_traceback(
    endpoint: Endpoint, timestamp: str | None, caplog: pytest.LogCaptureFixture
) -> None:
    body = slash_command("/store", "an attacker's memory", response_url=endpoint.response_url("x"))
    sent = signed_headers(SECRET, body)  # any signature: the timestamp is refused first
    if timestamp is None:
        del sent["X-Slack-Request-Timestamp"]
    else:
        sent["X-Slack-Request-Timestamp"] = timestamp
    with caplog.at_level("DEBUG"):
        response = await endpoint.post(body, headers=sent)
        after = await endpoint.post(body)  # the same connection still serves the next request
    assert response.status_code == 401
    assert after.status_code == 200
    refusals = [r for r in caplog.records if "X-Slack-Request-Timestamp" in r.getMessage()]
    assert refusals and all(r.levelname == "INFO" and r.exc_info is None for r in refusals)
    assert not [r for r in caplog.records if r.levelno >= 40]


async def test_a_retried_event_is_acknowledged_and_stored_once(endpoint: Endpoint) -> None:
    body = event_callback(
        app_mention("store the office door code changes monthly #office"), event_id="Ev0RETRY"
    )

    first = await endpoint.post(body)
    await endpoint.slack.wait_for(lambda slack: bool(slack.of("chat.postMessage")))
    retry = await endpoint.post(
        body,
        headers={
            **signed_headers(SECRET, body),
            "X-Slack-Retry-Num": "1",
            "X-Slack-Retry-Reason": "http_timeout",
        },
    )
    # a third delivery: proves the second was dropped, not merely slow
    later = await command(endpoint, "/query", "door code", "q")

    assert first.status_code == retry.status_code == 200
    assert len(await memories(endpoint.core)) == 1
    assert len(endpoint.slack.of("chat.postMessage")) == 1
    assert "door code" in dumped(later)


async def test_a_replayed_slash_command_stores_once(endpoint: Endpoint) -> None:
    body = slash_command(
        "/store", "lunch is at noon", response_url=endpoint.response_url("s"), trigger_id="T.1.abc"
    )
    assert (await endpoint.post(body)).status_code == 200
    await endpoint.slack.wait_for(lambda slack: bool(slack.of("respond:s")))
    assert (await endpoint.post(body)).status_code == 200
    await command(endpoint, "/query", "lunch", "q")  # processed after the replay

    assert len(endpoint.slack.of("respond:s")) == 1
    assert len(await memories(endpoint.core)) == 1


async def test_fifty_concurrent_commands_are_acknowledged_in_time_and_all_answered(
    endpoint: Endpoint,
) -> None:
    import anyio

    latencies: list[float] = []

    async def one(i: int) -> None:
        body = slash_command(
            "/store",
            f"fact number {i}: service {i} is owned by team {i % 7}",
            response_url=endpoint.response_url(f"c{i}"),
        )
        started = time.perf_counter()
        response = await endpoint.post(body)
        latencies.append(time.perf_counter() - started)
        assert response.status_code == 200

    async with anyio.create_task_group() as group:
        for i in range(50):
            group.start_soon(one, i)
    await endpoint.slack.wait_for(lambda slack: len(slack.responses()) == 50, within=60)

    assert len(latencies) == 50
    assert max(latencies) < 3.0, sorted(latencies)[-5:]
    answered = {call.method for call in endpoint.slack.responses()}
    assert answered == {f"respond:c{i}" for i in range(50)}
    assert all("Remembered as #" in call.data["text"] for call in endpoint.slack.responses())
    assert len(await memories(endpoint.core)) == 50


async def test_forget_only_by_the_author_or_an_admin(endpoint: Endpoint) -> None:
    await command(endpoint, "/store", "alice's note about the build cache", "s1")
    await command(endpoint, "/store", "another note about the build cache", "s2")
    first, second = sorted(m.id for m in await memories(endpoint.core))

    refused = await command(endpoint, "/forget", f"#{first}", "f-bob", user_id="U0002", user_name="bob")
    assert "Not allowed" in refused["text"]
    assert refused["response_type"] == "ephemeral"
    assert {m.id for m in await memories(endpoint.core)} == {first, second}

    done = await command(endpoint, "/forget", f"#{first}", "f-alice")
    assert f"Forgot #{first}" in done["text"]
    admin = await command(endpoint, "/forget", f"#{second}", "f-admin", user_id="U0009", user_name="root")
    assert f"Forgot #{second}" in admin["text"]
    assert await memories(endpoint.core) == []
    missing = await command(endpoint, "/forget", f"#{second}", "f-again")
    assert f"No memory #{second}." in missing["text"]


async def test_unmapped_workspace_is_refused(core: MemoryCore, serve: Serve) -> None:
    mapped = TenantMap({"acme": TenantIdentities(slack=("T0001",))})
    async with serve(mapped) as endpoint:
        refused = await command(
            endpoint, "/store", "a stranger's fact", "r", team_id="T0999", team_domain="other"
        )
        stored = await command(endpoint, "/store", "acme's own fact", "ok")
        await endpoint.post(event_callback(app_mention("what do you know?"), team_id="T0999"))
        await endpoint.slack.wait_for(lambda slack: bool(slack.of("chat.postEphemeral")))

    assert "not connected to any teamlore tenant" in refused["text"]
    assert "T0999" in refused["text"]
    assert "Remembered as" in stored["text"]
    assert [m.text for m in await memories(core, "acme")] == ["acme's own fact"]
    assert "not connected" in endpoint.slack.of("chat.postEphemeral")[0].data["text"]
    assert not endpoint.slack.of("chat.postMessage")


async def test_command_names_are_configurable(serve: Serve) -> None:
    async with serve(
        commands={"store": "/tl-store", "query": "", "reflect": "/reflect", "forget": "/forget"}
    ) as endpoint:
        stored = await command(endpoint, "/tl-store", "renamed commands work", "s")
        unknown = await endpoint.post(slash_command("/query", "x", response_url=endpoint.response_url("q")))
        helped = await command(endpoint, "/lore", "help", "h")

    assert "Remembered as #" in stored["text"]
    assert unknown.status_code == 404  # switched off: Bolt has no listener for it
    assert "/tl-store" in dumped(helped)
    assert "/lore query" in dumped(helped)


async def test_stored_text_cannot_ping_the_channel_or_forge_a_link(endpoint: Endpoint) -> None:
    typed = (
        "incident review <!channel> @here @everyone see <https://evil.example|https://bank.example> & more"
    )
    await command(
        endpoint, "/store", typed, "s1"
    )  # Slack escapes & < > as entities; teamlore stores the text
    [memory] = await memories(endpoint.core)
    assert memory.text == typed

    answer = await command(endpoint, "/query", "incident review", "q1")
    text = dumped(answer)
    for live in ("<!channel>", "<!here>", "<!everyone>", "<https://evil.example", "@here", "@everyone"):
        assert live not in text, live
    assert "&lt;!channel&gt;" in text
    assert "@\u200bhere" in text
    assert "&amp; more" in text
    assert answer.get("link_names") in (None, False)
    assert answer.get("parse") in (None, "none")


async def test_message_shortcut_saves_the_message_with_its_author_and_permalink(endpoint: Endpoint) -> None:
    message = {
        "user": "U0003",
        "text": "we pinned openssl to 3.0 &amp; told <@U0002|bob>",
        "ts": "1700000000.000200",
    }
    body = message_shortcut(message, response_url=endpoint.response_url("save"))

    assert (await endpoint.post(body)).status_code == 200
    await endpoint.slack.wait_for(lambda slack: bool(slack.of("respond:save")))

    [memory] = await memories(endpoint.core)
    assert memory.text == "we pinned openssl to 3.0 & told @bob"
    assert memory.author == "carol"
    assert memory.author_id == "slack:T0001:U0003"
    assert memory.source_ref == "https://acme.slack.com/archives/C0001/p1700000000000200"
    assert memory.created_at == datetime.fromtimestamp(1700000000.0002, tz=UTC)  # when it was said
    assert endpoint.slack.of("chat.getPermalink")[0].data["message_ts"] == "1700000000.000200"
    assert endpoint.slack.of("chat.getPermalink")[0].token == "xoxb-1234-5678-teamlore-test"
    answer = endpoint.slack.of("respond:save")[0].data
    assert f"Remembered as #{memory.id}" in answer["text"]
    assert answer["response_type"] == "ephemeral"

    again = message_shortcut(message, response_url=endpoint.response_url("again"))
    await endpoint.post(again)
    await endpoint.slack.wait_for(lambda slack: bool(slack.of("respond:again")))
    assert f"Already remembered as #{memory.id}" in endpoint.slack.of("respond:again")[0].data["text"]


async def test_shortcut_without_permalink_falls_back_and_refuses_empty_messages(endpoint: Endpoint) -> None:
    endpoint.slack.errors["chat.getPermalink"] = "channel_not_found"
    message = {"user": "U0001", "text": "the printer is on floor 2", "ts": "1700000000.000300"}
    await endpoint.post(message_shortcut(message, response_url=endpoint.response_url("a")))
    empty = {"user": "U0001", "text": "", "ts": "1700000000.000400", "files": [{"id": "F1"}]}
    await endpoint.post(message_shortcut(empty, response_url=endpoint.response_url("b")))
    await endpoint.slack.wait_for(lambda slack: bool(slack.of("respond:a")) and bool(slack.of("respond:b")))

    [memory] = await memories(endpoint.core)
    assert memory.source_ref == "https://acme.slack.com/archives/C0001/p1700000000000300"
    assert "Can't store that: that message has no text" in endpoint.slack.of("respond:b")[0].data["text"]


async def test_mention_answers_in_the_thread(endpoint: Endpoint) -> None:
    await command(endpoint, "/store", "the staging database is staging-db.acme.internal #infra", "s1")
    event = app_mention(
        "where is the staging database?", ts="1700000001.000100", thread_ts="1700000000.000001"
    )
    assert (await endpoint.post(event_callback(event))).status_code == 200
    await endpoint.slack.wait_for(lambda slack: bool(slack.of("chat.postMessage")))

    [post] = endpoint.slack.of("chat.postMessage")
    assert post.data["channel"] == "C0001"
    assert post.data["thread_ts"] == "1700000000.000001"
    assert "staging-db.acme.internal" in dumped(post.data)
    assert post.token == "xoxb-1234-5678-teamlore-test"


async def test_mention_can_store_and_the_store_links_the_message(endpoint: Endpoint) -> None:
    event = app_mention("store the release branch is cut on mondays #release", ts="1700000002.000100")
    event["text"] = "store the release branch is cut on mondays #release <@UBOT|teamlore>"  # mention last
    await endpoint.post(event_callback(event))
    await endpoint.slack.wait_for(lambda slack: bool(slack.of("chat.postMessage")))

    [memory] = await memories(endpoint.core)
    assert memory.text == "the release branch is cut on mondays"
    assert memory.author == "alice"  # looked up with users.info
    assert memory.source_ref == "https://acme.slack.com/archives/C0001/p1700000002000100"
    assert endpoint.slack.of("chat.postMessage")[0].data["thread_ts"] == "1700000002.000100"


async def test_url_verification_returns_the_challenge(endpoint: Endpoint) -> None:
    body = json.dumps(
        {
            "token": "t",
            "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
            "type": "url_verification",
        }
    )
    response = await endpoint.post(body)
    assert response.status_code == 200
    assert "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" in response.text


async def test_parse_errors_and_help_come_back_ephemeral(endpoint: Endpoint) -> None:
    bad = await command(endpoint, "/store", "#only-tags", "bad")
    assert "Can't store that: there is nothing to store" in bad["text"]
    assert bad["response_type"] == "ephemeral"
    assert ":warning:" in dumped(bad)

    helped = await command(endpoint, "/lore", "", "help")
    assert "/store" in dumped(helped)
    assert "/lore help" in dumped(helped)
    via_lore = await command(
        endpoint, "/lore", "store the coffee machine is descaled on fridays", "lore-store"
    )
    assert "Remembered as #" in via_lore["text"]


async def test_oversized_and_non_utf8_bodies_are_refused(endpoint: Endpoint) -> None:
    huge = "text=" + "a" * 1_100_000
    assert (await endpoint.post(huge)).status_code == 413
    garbage = b"text=\xff\xfe"
    response = await endpoint.http.post(
        endpoint.url, content=garbage, headers=signed_headers(SECRET, garbage)
    )
    assert response.status_code == 400
    assert await memories(endpoint.core) == []


async def test_the_ack_does_not_wait_for_the_work_and_shutdown_finishes_it(endpoint: Endpoint) -> None:
    endpoint.slack.held.add("chat.getPermalink")  # the work blocks on Slack; the ack must not
    message = {"user": "U0001", "text": "the on-call phone is in the top drawer", "ts": "1700000000.000500"}
    body = message_shortcut(message, response_url=endpoint.response_url("held"))

    with anyio.fail_after(3):
        response = await endpoint.post(body)
    assert response.status_code == 200
    await endpoint.slack.wait_for(lambda slack: bool(slack.of("chat.getPermalink")))
    assert endpoint.bot.in_flight == 1
    assert await memories(endpoint.core) == []

    async with anyio.create_task_group() as group:
        group.start_soon(endpoint.bot.aclose)
        await anyio.sleep(0.2)
        endpoint.slack.release.set()
    assert endpoint.bot.in_flight == 0
    assert [m.text for m in await memories(endpoint.core)] == ["the on-call phone is in the top drawer"]
    assert endpoint.slack.of("respond:held")


async def test_socket_mode_only_settings_refuse_every_http_request(serve: Serve) -> None:
    async with serve(signing_secret=None, app_token="xapp-1-A0001-1-abcdef") as endpoint:
        body = slash_command("/store", "sneaky", response_url=endpoint.response_url("s"))
        for secret in ("", SECRET):
            assert (await endpoint.post(body, headers=signed_headers(secret, body))).status_code == 401
        assert await memories(endpoint.core) == []


async def test_reflect_answers_with_a_saved_reflection_citing_ids(endpoint: Endpoint) -> None:
    await command(endpoint, "/store", "the VPN moved to vpn2.corp in March #vpn", "s1")
    await command(endpoint, "/store", "the VPN client needs a new certificate #vpn", "s2")
    answer = await command(endpoint, "/reflect", "vpn", "r1")

    text = dumped(answer)
    assert "Reflection on “vpn”" in text, text
    assert "saved as *#" in text
    ids = sorted(m.id for m in await memories(endpoint.core) if m.kind != "reflection")
    assert all(f"#{i}" in text for i in ids), text
    assert [m.kind for m in await memories(endpoint.core)].count("reflection") == 1


async def test_mentions_by_other_bots_are_ignored(endpoint: Endpoint) -> None:
    event = {
        "type": "app_mention",
        "bot_id": "B0999",
        "text": "<@UBOT> store spam",
        "ts": "1.2",
        "channel": "C0001",
    }
    assert (await endpoint.post(event_callback(event))).status_code == 200
    await command(endpoint, "/query", "spam", "q")  # processed after the bot's mention
    assert await memories(endpoint.core) == []
    assert not endpoint.slack.of("chat.postMessage")
    assert not endpoint.slack.of("chat.postEphemeral")


async def test_store_answer_names_a_probable_contradiction_and_supersedes_replaces_it(
    endpoint: Endpoint,
) -> None:
    await command(endpoint, "/store", "Backups are kept for 35 days. #backup", "c1")
    answer = await command(endpoint, "/store", "Backups are kept for 14 days now. #backup", "c2")
    old, new = sorted(m.id for m in await memories(endpoint.core))
    assert f"this may contradict #{old} by alice on " in answer["text"].replace("This", "this")
    assert f"`supersedes:#{old}`" in answer["text"]
    again = await command(
        endpoint, "/store", f"Backups are kept for 14 days now. #backup supersedes:#{old}", "c3"
    )
    assert f"Already remembered as #{new}. It replaces #{old}." in again["text"]
    assert (await endpoint.core.get("default", old)).superseded_by == new
    found = await command(endpoint, "/query", "how long are backups kept?", "q3")
    assert f"*#{new}*" in dumped(found) and f"*#{old}*" not in dumped(found)
    history = await command(endpoint, "/query", "how long are backups kept? superseded:yes", "q4")
    assert f"*#{old}*" in dumped(history) and f"superseded by #{new}" in dumped(history)
