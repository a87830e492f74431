"""Slack's text conventions both ways: incoming markup to plain text, and user text escaped for mrkdwn.

Slack sends `&`, `<` and `>` typed by a person as `&amp;`, `&lt;`, `&gt;`, and writes mentions, channels
and links as `<@U123|name>`, `<#C123|general>`, `<!here>`, `<https://x.org|label>`. Memories are stored as
plain, readable text (so Discord, mail, MCP and the search index see "@alice", not "<@U123>"), and every
piece of user text that goes back into a Slack message is escaped again: a stored `<!channel>` or
`<https://evil|https://bank>` shows up literally and can neither ping anyone nor forge a link.
"""

from __future__ import annotations

import re

from ..render import neutralise_mentions

__all__ = ["escape", "escape_link", "slack_to_plain"]

_MARKUP = re.compile(r"<([^<>\n]*)>")


def _plain(inner: str) -> str:
    target, _, label = inner.partition("|")
    if target.startswith(("@U", "@W", "@B")):
        return "@" + (label or target[1:])
    if target.startswith("#C") or target.startswith("#G"):
        return "#" + (label or target[1:])
    if target.startswith("!subteam^"):
        return label if label.startswith("@") else "@" + (label or target.removeprefix("!subteam^"))
    if target.startswith("!date^"):
        return label
    if target.startswith("!"):
        return "@" + (label or target[1:])  # <!here>, <!channel>, <!everyone>
    if target.startswith("mailto:"):
        return label or target.removeprefix("mailto:")
    if not target:
        return ""
    return f"{label} ({target})" if label and label != target else target


def slack_to_plain(text: str) -> str:
    """Slack message or command text -> what the person wrote, as plain text.

    `<@U1|alice>` -> `@alice`, `<#C1|general>` -> `#general`, `<!here>` -> `@here`, `<https://x|docs>` ->
    `docs (https://x)`, and the `&amp;` `&lt;` `&gt;` entities back to `&` `<` `>` (last, so a literal
    `&lt;!channel&gt;` typed by someone stays the harmless text `<!channel>`).
    """
    text = _MARKUP.sub(lambda match: _plain(match.group(1)), text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def escape(text: str) -> str:
    """User text made safe for a mrkdwn (or top-level `text`) field: reads the same, pings and links nothing.

    Slack's three control characters become entities (no `<!channel>`, `<@U1>` or `<url|label>` can be
    formed), and `@channel`/`@here`/`@everyone` get a zero-width space so no client or `link_names`
    setting turns them into a mass mention.
    """
    return neutralise_mentions(text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))


def escape_link(url: str) -> str | None:
    """An http(s) URL safe inside `<url|label>`, or None when it is not one (then it is shown as text)."""
    if not url.startswith(("https://", "http://")) or any(char.isspace() for char in url):
        return None
    return url.replace("&", "&amp;").replace("<", "%3C").replace(">", "%3E").replace("|", "%7C")
