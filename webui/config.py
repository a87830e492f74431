"""Settings of the web app for people, as a plain model the composition root fills (TEAMLORE_WEB__*)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["WebSettings"]


class WebSettings(BaseModel):
    """The web app at `/` of the web server: sign-in by API key, pages for search, curation and admin."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = Field(True, description="Serve the web app at / of the web server.")
    session_hours: float = Field(
        12.0, gt=0, le=24 * 90, description="How long a web sign-in lasts before it asks for the key again."
    )
    signin_attempts_per_minute: int = Field(
        10,
        ge=1,
        le=1000,
        description="Sign-in attempts one client address may make per minute (per process).",
    )
    max_form_bytes: int = Field(
        1_048_576, ge=1024, description="Largest form a page accepts (bytes); a larger one is refused."
    )
    page_size: int = Field(20, ge=5, le=200, description="Memories per page of the recent list.")
    link_minutes: int = Field(
        15,
        ge=1,
        le=24 * 60,
        description="How long a one-time sign-in link (`teamlore web link`) stays valid.",
    )
