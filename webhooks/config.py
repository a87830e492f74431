"""The webhooks section of the settings (TEAMLORE_WEBHOOKS__*), a plain model teamlore/ passes down."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr

__all__ = ["WebhookSettings"]


class WebhookSettings(BaseModel):
    """Signed webhooks: generic hooks made with `teamlore webhooks create`, and GitHub."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    secret_key: SecretStr | None = Field(
        None,
        description="Server key that seals the generic webhooks' secrets in the database (any random string "
        "of 16+ characters). Unset: a webhooks.key file (mode 0600) in the data directory. Set it when "
        "processes on several machines share one database.",
    )
    tolerance_seconds: int = Field(
        300,
        ge=10,
        le=3600,
        description="A generic webhook's X-Teamlore-Timestamp may be this far from the server's clock; "
        "older or newer deliveries get 401 (replay protection).",
    )
    max_body_bytes: int = Field(
        2_097_152, ge=1024, description="Largest webhook body accepted; larger gets 413."
    )
    github_secret: SecretStr | None = Field(
        None,
        description="The Secret entered in the GitHub webhook's settings; POST /hooks/github is on when set. "
        "Repositories map to tenants through TEAMLORE_TENANTS (github: [owner/repo or owner]).",
    )
    github_paragraphs: int = Field(
        2,
        ge=0,
        le=20,
        description="How many leading paragraphs of a pull request's, issue's or release's description "
        "are remembered.",
    )
