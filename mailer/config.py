"""MailSettings: the SMTP front-end's settings section, a plain model filled in by the composition root."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import NoDecode

__all__ = ["MailSettings", "RelaySettings"]

# One env var holds the whole list; NoDecode lets "a@x.com, b.com" through to our own splitting
# (pydantic-settings would otherwise insist on JSON).
AddressList = Annotated[tuple[str, ...], NoDecode]


def _split_list(value: object) -> object:
    """Accept "a@x.com, b.com" or '["a@x.com", "b.com"]' (one env var) as well as a list."""
    if isinstance(value, str):
        if value.strip().startswith("["):
            return json.loads(value)
        return tuple(item.strip() for item in value.split(",") if item.strip())
    return value


def _clean_addresses(values: tuple[str, ...]) -> tuple[str, ...]:
    cleaned = []
    for value in values:
        value = value.strip().strip("<>").strip().lower()
        if not value or " " in value or value.count("@") > 1 or value.endswith("@"):
            raise ValueError(f"{value!r} is neither an address (lore@acme.com) nor a domain (acme.com)")
        cleaned.append(value.lstrip("@"))
    return tuple(dict.fromkeys(cleaned))


class RelaySettings(BaseModel):
    """The outgoing SMTP relay that confirmation replies go through."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str = Field(description="Relay host name, e.g. smtp.acme.com.")
    port: int = Field(587, ge=1, le=65535, description="Relay port (587 submission, 465 TLS, 25 plain).")
    username: str | None = Field(None, description="Login for the relay; no AUTH when unset.")
    password: SecretStr | None = Field(None, description="Password for the relay login.")
    use_tls: bool = Field(False, description="Connect with TLS from the start (port 465 style).")
    start_tls: bool | None = Field(
        None, description="Upgrade with STARTTLS: true requires it, false never, unset when offered."
    )
    validate_certs: bool = Field(True, description="Check the relay's TLS certificate.")
    from_address: str = Field(description="From address of confirmation replies, e.g. lore@acme.com.")
    timeout_seconds: float = Field(30.0, gt=0, description="Give up on the relay after this long.")
    queue_size: int = Field(
        100, ge=1, description="Confirmations waiting for the relay; beyond this new ones are dropped."
    )


class MailSettings(BaseModel):
    """Settings of the SMTP ingest server (`TEAMLORE_MAIL__*`).

    Mail is accepted only for `recipients` (never relayed anywhere); which tenant a recipient belongs
    to is the tenant map's decision (`TenantMap.resolve("mail", address)`).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str = Field("127.0.0.1", description="Address the SMTP server listens on (0.0.0.0 for all).")
    port: int = Field(2525, ge=0, le=65535, description="SMTP port (0 picks a free one; 25 for an MX).")
    hostname: str | None = Field(
        None, description="Name in the SMTP greeting and EHLO reply; default: this machine's FQDN."
    )
    recipients: AddressList = Field(
        (),
        description=(
            "Addresses (lore@acme.com) or domains (acme.com) accepted as ours, comma-separated; "
            "plus-addressing (lore+infra@acme.com) matches its base address. Everything else is 550 5.1.1."
        ),
    )
    allowed_senders: AddressList = Field(
        (),
        description=(
            "Envelope senders (alice@acme.com) or domains (acme.com) allowed to send, comma-separated; "
            "empty allows any sender. Others get 550 5.7.1. Authenticated sessions are always allowed."
        ),
    )
    max_message_bytes: int = Field(
        10 * 1024 * 1024, ge=1024, description="Largest message accepted (advertised with SIZE); larger: 552."
    )
    max_text_chars: int = Field(
        16_000, ge=200, description="The memory text (note, body, attachments) is cut to this length."
    )
    attachment_text_chars: int = Field(
        4_000, ge=0, description="Characters of text attachments indexed per mail, in total (0: none)."
    )
    max_tags: int = Field(12, ge=0, le=50, description="At most this many tags are taken from one mail.")
    max_mime_depth: int = Field(
        32, ge=1, le=200, description="MIME parts nested deeper than this: refused (554 5.6.0), not parsed."
    )
    max_header_lines: int = Field(
        1000, ge=50, le=100_000, description="A mail with more header fields than this: refused (554 5.6.0)."
    )
    redact_credentials: bool = Field(
        True,
        description=(
            "Store a mail that contains something like a password or API key with the secret redacted; "
            "false refuses it (550 5.6.0)."
        ),
    )
    tls_cert_file: Path | None = Field(None, description="PEM certificate (chain) that enables STARTTLS.")
    tls_key_file: Path | None = Field(None, description="PEM private key of the STARTTLS certificate.")
    require_starttls: bool = Field(False, description="Refuse mail until the client has issued STARTTLS.")
    auth_users: dict[str, SecretStr] = Field(
        {},
        description=(
            "Logins allowed to AUTH (PLAIN/LOGIN, offered only after STARTTLS), as a JSON object "
            '{"user": "password"}. An authenticated sender skips the sender allowlist.'
        ),
    )
    auth_required: bool = Field(False, description="Refuse mail from sessions that have not authenticated.")
    idle_timeout_seconds: float = Field(300.0, gt=0, description="Close a connection idle for this long.")
    shutdown_grace_seconds: float = Field(
        10.0, ge=0, description="On shutdown, wait this long for mails being stored before closing."
    )
    confirm: bool = Field(False, description="Reply to the sender with the new memory id (needs `relay`).")
    relay: RelaySettings | None = Field(None, description="Outgoing SMTP relay for confirmation replies.")

    @field_validator("recipients", "allowed_senders", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        return _split_list(value)

    @field_validator("recipients", "allowed_senders")
    @classmethod
    def _addresses(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _clean_addresses(value)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if (self.tls_cert_file is None) != (self.tls_key_file is None):
            raise ValueError("set both tls_cert_file and tls_key_file to enable STARTTLS")
        if self.require_starttls and self.tls_cert_file is None:
            raise ValueError("require_starttls needs tls_cert_file and tls_key_file")
        if self.auth_users and self.tls_cert_file is None:
            raise ValueError(
                "auth_users needs STARTTLS (tls_cert_file, tls_key_file): AUTH is never in clear"
            )
        if self.auth_required and not self.auth_users:
            raise ValueError("auth_required needs auth_users")
        if self.confirm and self.relay is None:
            raise ValueError("confirm needs relay (the outgoing SMTP server)")
        return self

    @property
    def tls_enabled(self) -> bool:
        return self.tls_cert_file is not None
