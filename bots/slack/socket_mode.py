"""Socket Mode: Slack delivers over a WebSocket the app opens, for teams without a public URL.

`run_socket_mode` connects (apps.connections.open with the app-level token, through the app's Web API
client, so `api_base_url` applies; a refused token is a ConfigurationError at once, not an endless
retry), then serves until cancelled; on cancellation it closes the
connection cleanly (shielded, so the lead's task group can cancel it on SIGTERM). The Socket Mode client
reconnects by itself when Slack rotates or drops the connection.
"""

from __future__ import annotations

import logging

import anyio
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from memory_core import ConfigurationError

__all__ = ["run_socket_mode"]

logger = logging.getLogger(__name__)


async def run_socket_mode(app: AsyncApp, app_token: str, *, ping_interval: float = 10.0) -> None:
    """Serve `app` over Socket Mode until cancelled.

    Raises:
        ConfigurationError: Slack refused the app-level token (named by its setting).
    """
    handler = AsyncSocketModeHandler(app, app_token=app_token, ping_interval=ping_interval)
    try:
        handler.client.wss_uri = await _first_url(app, app_token)
        await handler.connect_async()  # type: ignore[no-untyped-call]
        logger.info("slack: connected over Socket Mode")
        await anyio.sleep_forever()
    finally:
        with anyio.CancelScope(shield=True):
            await handler.close_async()  # type: ignore[no-untyped-call]
        logger.info("slack: Socket Mode connection closed")


async def _first_url(app: AsyncApp, app_token: str) -> str | None:
    """Open the first connection URL ourselves: the client would retry a refused token forever.

    None (the client then retries on its own) when Slack cannot be reached at all.
    """
    try:
        response = await app.client.apps_connections_open(app_token=app_token)
    except SlackApiError as error:
        code = error.response.get("error", "unknown")
        raise ConfigurationError(
            f"Slack refused TEAMLORE_SLACK__APP_TOKEN ({code}); it needs the connections:write scope "
            "and Socket Mode switched on in the app settings"
        ) from None
    except Exception as error:  # unreachable: the Socket Mode client keeps trying and logging
        logger.warning("slack: cannot reach Slack yet (%s); Socket Mode keeps trying", error)
        return None
    url = response.get("url")
    return str(url) if url else None
