"""Deliveries shaped like GitHub's documented webhook events (octokit/webhooks examples), and their headers.

The payloads carry the fields GitHub sends for these events (trimmed of the many *_url links teamlore does
not read, which change nothing), and the headers are GitHub's: event, delivery GUID, hook ids, both
signatures, the Hookshot user agent.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from typing import Any

from webhooks import sign_github


def user(login: str, user_id: int = 21031067) -> dict[str, Any]:
    return {
        "login": login,
        "id": user_id,
        "node_id": "MDQ6VXNlcjIxMDMxMDY3",
        "avatar_url": f"https://avatars.githubusercontent.com/u/{user_id}?v=4",
        "html_url": f"https://github.com/{login}",
        "type": "User",
        "site_admin": False,
    }


def repository(full_name: str = "acme/api") -> dict[str, Any]:
    owner, name = full_name.split("/")
    return {
        "id": 186853002,
        "node_id": "MDEwOlJlcG9zaXRvcnkxODY4NTMwMDI=",
        "name": name,
        "full_name": full_name,
        "private": False,
        "owner": {**user(owner, 9919), "type": "Organization"},
        "html_url": f"https://github.com/{full_name}",
        "description": None,
        "fork": False,
        "url": f"https://api.github.com/repos/{full_name}",
        "created_at": "2019-05-15T15:19:25Z",
        "updated_at": "2019-05-15T15:21:03Z",
        "pushed_at": "2019-05-15T15:20:57Z",
        "default_branch": "main",
    }


def label(name: str, color: str = "d73a4a") -> dict[str, Any]:
    return {
        "id": 1362934389,
        "node_id": "MDU6TGFiZWwxMzYyOTM0Mzg5",
        "url": f"https://api.github.com/repos/acme/api/labels/{name}",
        "name": name,
        "color": color,
        "default": False,
        "description": None,
    }


PR_BODY = (
    "Moves every deploy to the new blue/green pipeline.\r\n\r\n"
    "<!-- Please describe how you tested this change -->\r\n"
    "We decided to deploy only on Tuesdays and Thursdays, after the 10:00 stand-up.\r\n\r\n"
    "Checklist: tests, docs, changelog.\r\n"
)


def pull_request(
    action: str = "closed",
    *,
    merged: bool = True,
    labels: tuple[str, ...] = ("decision", "Deploy Pipeline"),
    repo: str = "acme/api",
    number: int = 42,
    title: str = "Deploy with blue/green on Tuesdays and Thursdays",
) -> dict[str, Any]:
    pr_user = user("octocat", 583231)
    return {
        "action": action,
        "number": number,
        "pull_request": {
            "url": f"https://api.github.com/repos/{repo}/pulls/{number}",
            "id": 279147437,
            "node_id": "MDExOlB1bGxSZXF1ZXN0Mjc5MTQ3NDM3",
            "html_url": f"https://github.com/{repo}/pull/{number}",
            "diff_url": f"https://github.com/{repo}/pull/{number}.diff",
            "number": number,
            "state": "closed" if action == "closed" else "open",
            "locked": False,
            "title": title,
            "user": pr_user,
            "body": PR_BODY,
            "created_at": "2026-11-28T14:02:11Z",
            "updated_at": "2026-11-30T09:15:40Z",
            "closed_at": "2026-11-30T09:15:40Z" if action == "closed" else None,
            "merged_at": "2026-11-30T09:15:40Z" if merged else None,
            "merge_commit_sha": "c4295bd74fb0f4fda03689c3df3f2803b658fd85" if merged else None,
            "assignee": None,
            "assignees": [],
            "requested_reviewers": [],
            "labels": [label(n) for n in labels],
            "milestone": None,
            "draft": False,
            "head": {
                "label": "octocat:blue-green",
                "ref": "blue-green",
                "sha": "ec26c3e57ca3a959ca5aad62de7213c562f8c821",
            },
            "base": {"label": "acme:main", "ref": "main", "sha": "f95f852bd8fca8fcc58a9a2d6c842781e32a215e"},
            "author_association": "MEMBER",
            "merged": merged,
            "mergeable": None,
            "merged_by": user("hubot", 1) if merged else None,
            "comments": 3,
            "commits": 4,
            "additions": 120,
            "deletions": 18,
            "changed_files": 6,
        },
        "repository": repository(repo),
        "sender": user("hubot", 1),
    }


def issue(
    action: str = "closed", *, state_reason: str | None = "completed", repo: str = "acme/api"
) -> dict[str, Any]:
    return {
        "action": action,
        "issue": {
            "url": f"https://api.github.com/repos/{repo}/issues/7",
            "id": 444500041,
            "node_id": "MDU6SXNzdWU0NDQ1MDAwNDE=",
            "number": 7,
            "title": "The VPN drops every night at 02:00",
            "user": user("mona", 1234),
            "labels": [label("bug"), label("infra")],
            "state": "closed" if action == "closed" else "open",
            "locked": False,
            "assignee": None,
            "assignees": [],
            "milestone": None,
            "comments": 5,
            "created_at": "2026-11-20T10:00:00Z",
            "updated_at": "2026-11-29T16:30:00Z",
            "closed_at": "2026-11-29T16:30:00Z" if action == "closed" else None,
            "author_association": "MEMBER",
            "active_lock_reason": None,
            "body": (
                "The tunnel resets at 02:00 every night.\n\n"
                "It was the key rotation cron job; it now runs at 04:00."
            ),
            "state_reason": state_reason,
            "html_url": f"https://github.com/{repo}/issues/7",
        },
        "repository": repository(repo),
        "sender": user("mona", 1234),
    }


def release(action: str = "published", *, repo: str = "acme/api") -> dict[str, Any]:
    return {
        "action": action,
        "release": {
            "url": f"https://api.github.com/repos/{repo}/releases/11248810",
            "html_url": f"https://github.com/{repo}/releases/tag/v2.4.0",
            "id": 11248810,
            "node_id": "MDc6UmVsZWFzZTExMjQ4ODEw",
            "tag_name": "v2.4.0",
            "target_commitish": "main",
            "name": "2.4.0: blue/green deploys",
            "draft": False,
            "author": user("octocat", 583231),
            "prerelease": False,
            "created_at": "2026-11-30T10:00:00Z",
            "published_at": "2026-11-30T10:05:00Z",
            "assets": [],
            "body": "Deploys are now blue/green.\r\n\r\nThe old deploy script is gone.",
        },
        "repository": repository(repo),
        "sender": user("octocat", 583231),
    }


def ping(repo: str | None = "acme/api") -> dict[str, Any]:
    payload: dict[str, Any] = {
        "zen": "Keep it logically awesome.",
        "hook_id": 470162148,
        "hook": {
            "type": "Repository",
            "id": 470162148,
            "name": "web",
            "active": True,
            "events": ["issues", "pull_request", "release"],
            "config": {
                "content_type": "json",
                "insecure_ssl": "0",
                "url": "https://lore.acme.com/hooks/github",
            },
        },
        "sender": user("octocat", 583231),
    }
    if repo:
        payload["repository"] = repository(repo)
    return payload


def push() -> dict[str, Any]:
    return {
        "ref": "refs/heads/main",
        "before": "6113728f27ae82c7b1a177c8d03f9e96e0adf246",
        "after": "0000000000000000000000000000000000000000",
        "repository": repository(),
        "pusher": {"name": "octocat", "email": "octocat@github.com"},
        "sender": user("octocat", 583231),
        "commits": [],
    }


def delivery(
    event: str, payload: dict[str, Any], secret: str, *, guid: str | None = None, form: bool = False
) -> tuple[bytes, dict[str, str]]:
    """(body, headers) exactly as GitHub sends them, signed with `secret`."""
    data = json.dumps(payload, indent=2).encode()
    if form:
        from urllib.parse import urlencode

        data = urlencode({"payload": data.decode()}).encode()
    headers = {
        "User-Agent": "GitHub-Hookshot/9b97f8a",
        "Accept": "*/*",
        "Content-Type": "application/x-www-form-urlencoded" if form else "application/json",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": guid or str(uuid.uuid1()),
        "X-GitHub-Hook-ID": "470162148",
        "X-GitHub-Hook-Installation-Target-ID": "186853002",
        "X-GitHub-Hook-Installation-Target-Type": "repository",
        "X-Hub-Signature": "sha1=" + hmac.new(secret.encode(), data, hashlib.sha1).hexdigest(),
        "X-Hub-Signature-256": sign_github(secret, data),
    }
    return data, headers
