"""Webhook secrets: named, tenant-bound HMAC secrets kept encrypted, and the idempotency keys delivered.

Why encrypted and not hashed like API keys: a webhook sender signs each body with the secret and the
server must compute the same HMAC, so the server needs the secret itself, not a hash of it. Each secret is
sealed with AES-GCM under a server key (the hook's name bound in as associated data, so a sealed secret
cannot be moved to another hook). The server key is `TEAMLORE_WEBHOOKS__SECRET_KEY` when set (needed when
several machines share one database), else a 32-byte file `webhooks.key` that is created with mode 0600 in
the data directory on first use. A copy of the database alone reveals no secret; the database plus that
key does, so back the key up apart from the database. Losing the key means re-creating the hooks.
"""

from __future__ import annotations

import base64
import builtins
import hashlib
import logging
import os
import re
import secrets
import stat
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import BaseModel, ConfigDict
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError

from ._db import from_db_time, revoke_row, to_db_time, utcnow
from ._schema import webhook_delivery_table, webhook_table
from .errors import ConfigurationError, InvalidInput, Unavailable
from .files import make_private_dir
from .tenancy import check_tenant

if TYPE_CHECKING:
    from .core import MemoryCore

__all__ = ["HOOK_SECRET_PREFIX", "WebhookInfo", "Webhooks", "webhook_key"]

logger = logging.getLogger(__name__)

HOOK_SECRET_PREFIX = "tlw_"
KEY_FILE = "webhooks.key"
# Hook names are URL path segments; "github" is the built-in GitHub receiver.
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
RESERVED_NAMES = frozenset({"github"})
# How long an idempotency key is remembered: longer than any sender retries (GitHub: manual, days).
DELIVERY_DAYS = 30


class WebhookInfo(BaseModel):
    """A webhook as lists show it: never the secret."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: int
    name: str
    tenant: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def webhook_key(data_dir: Path, configured: str | None = None) -> bytes:
    """The 32-byte server key that seals webhook secrets.

    From `configured` (any long random string; its SHA-256 is the key) when given, else from
    `data_dir/webhooks.key`, created (0600, exclusively, so two processes agree) when missing.

    Raises:
        ConfigurationError: the key file is unreadable, of the wrong size, or readable by others.
    """
    if configured:
        if len(configured) < 16:
            raise ConfigurationError("TEAMLORE_WEBHOOKS__SECRET_KEY must be at least 16 characters")
        return hashlib.sha256(configured.encode("utf-8")).digest()
    path = data_dir / KEY_FILE
    make_private_dir(data_dir)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "wb") as out:
            out.write(secrets.token_bytes(32))
        logger.info("created the webhook key %s (back it up apart from the database)", path)
    try:
        mode = path.stat().st_mode
        key = path.read_bytes()
    except OSError as exc:
        raise ConfigurationError(f"cannot read the webhook key {path}: {exc}") from exc
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigurationError(f"the webhook key {path} is readable by others: chmod 600 {path}")
    if len(key) != 32:
        raise ConfigurationError(f"the webhook key {path} is not 32 bytes; restore it from a backup")
    return key


def _row_to_info(row: RowMapping) -> WebhookInfo:
    return WebhookInfo(
        id=row["id"],
        name=row["name"],
        tenant=row["tenant"],
        created_at=from_db_time(row["created_at"]),  # type: ignore[arg-type]
        last_used_at=from_db_time(row["last_used_at"]),
        revoked_at=from_db_time(row["revoked_at"]),
    )


def check_hook_name(name: str) -> str:
    clean = name.strip().lower()
    if not _NAME.fullmatch(clean):
        raise InvalidInput(f"invalid webhook name {name!r}: use 1-64 lower-case letters, digits, '-' or '_'")
    if clean in RESERVED_NAMES:
        raise InvalidInput(f"{clean!r} is the built-in receiver (/hooks/{clean}); pick another name")
    return clean


_COLUMNS = [c for c in webhook_table.c if c.name != "secret_box"]


class Webhooks:
    """Create, list, revoke and look up signed webhooks, and remember the idempotency keys delivered."""

    def __init__(self, core: MemoryCore, key: bytes) -> None:
        self._db = core.database
        self._aead = AESGCM(key)

    def _seal(self, name: str, secret: str) -> str:
        nonce = secrets.token_bytes(12)
        box = nonce + self._aead.encrypt(nonce, secret.encode("utf-8"), name.encode("utf-8"))
        return base64.b64encode(box).decode("ascii")

    def _open(self, name: str, box: str) -> str:
        raw = base64.b64decode(box)
        try:
            return self._aead.decrypt(raw[:12], raw[12:], name.encode("utf-8")).decode("utf-8")
        except InvalidTag:
            raise ConfigurationError(
                f"the secret of webhook {name!r} cannot be opened with this server's webhook key: "
                "every process must share TEAMLORE_WEBHOOKS__SECRET_KEY (or the data directory's "
                "webhooks.key); otherwise re-create the hook"
            ) from None

    async def create(self, name: str, tenant: str) -> tuple[str, WebhookInfo]:
        """Make hook `name` for `tenant`. Returns (the secret, shown only now; its info).

        A revoked hook's name may be used again (with a new secret); an active one may not.

        Raises:
            InvalidInput: bad or reserved name, bad tenant, or an active hook of that name exists.
        """
        name = check_hook_name(name)
        check_tenant(tenant)
        secret = HOOK_SECRET_PREFIX + secrets.token_urlsafe(32)
        values = {
            "tenant": tenant,
            "secret_box": self._seal(name, secret),
            "created_at": to_db_time(utcnow()),
            "last_used_at": None,
            "revoked_at": None,
        }
        async with self._db.write() as conn:
            row = (
                (await conn.execute(sa.select(*_COLUMNS).where(webhook_table.c.name == name)))
                .mappings()
                .first()
            )
            if row is not None and row["revoked_at"] is None:
                raise InvalidInput(f"webhook {name!r} exists; revoke it first to make a new secret")
            if row is None:
                await conn.execute(sa.insert(webhook_table).values(name=name, **values))
            else:
                await conn.execute(
                    sa.update(webhook_table).where(webhook_table.c.id == row["id"]).values(**values)
                )
                await conn.execute(
                    sa.delete(webhook_delivery_table).where(webhook_delivery_table.c.hook == name)
                )
            row = (
                (await conn.execute(sa.select(*_COLUMNS).where(webhook_table.c.name == name)))
                .mappings()
                .one()
            )
        info = _row_to_info(row)
        logger.info("created webhook %s (#%d) for tenant %s", name, info.id, tenant)
        return secret, info

    async def list(self, tenant: str | None = None) -> builtins.list[WebhookInfo]:
        """Every hook (revoked ones too), of one tenant or of all, oldest first."""
        query = sa.select(*_COLUMNS).order_by(webhook_table.c.id)
        if tenant is not None:
            query = query.where(webhook_table.c.tenant == check_tenant(tenant))
        async with self._db.read() as conn:
            return [_row_to_info(row) for row in (await conn.execute(query)).mappings()]

    async def revoke(self, name: str) -> WebhookInfo:
        """Revoke hook `name`: its signature stops being accepted at once; revoking twice is harmless.

        Raises:
            InvalidInput: no hook of that name.
        """
        clean = name.strip().lower()
        async with self._db.write() as conn:
            row = (
                (await conn.execute(sa.select(*_COLUMNS).where(webhook_table.c.name == clean)))
                .mappings()
                .first()
            )
            if row is None:
                raise InvalidInput(f"no webhook {name!r}; `teamlore webhooks list` shows them")
            row = await revoke_row(conn, webhook_table, _COLUMNS, row)
        info = _row_to_info(row)
        logger.info("revoked webhook %s (#%d) of tenant %s", info.name, info.id, info.tenant)
        return info

    async def lookup(self, name: str) -> tuple[WebhookInfo, str] | None:
        """The active hook `name` and its secret, or None when there is none (or it was revoked).

        Raises:
            ConfigurationError: the secret was sealed with another server key.
        """
        clean = name.strip().lower()
        if not _NAME.fullmatch(clean):
            return None
        async with self._db.read() as conn:
            row = (
                (await conn.execute(sa.select(webhook_table).where(webhook_table.c.name == clean)))
                .mappings()
                .first()
            )
        if row is None or row["revoked_at"] is not None:
            return None
        return _row_to_info(row), self._open(clean, row["secret_box"])

    async def delivered(self, hook: str, key: str) -> int | None:
        """The memory id stored for this idempotency key of this hook, or None."""
        async with self._db.read() as conn:
            return (
                await conn.execute(
                    sa.select(webhook_delivery_table.c.memory_id).where(
                        webhook_delivery_table.c.hook == hook, webhook_delivery_table.c.key == key[:200]
                    )
                )
            ).scalar()

    async def record_delivery(self, hook: str, key: str, memory_id: int) -> None:
        """Remember that `key` stored `memory_id` (the first record wins); forget keys after 30 days.

        Also marks the hook used. Bookkeeping: a busy database is logged, never raised, since the memory
        is already stored and a retry would find it by its text.
        """
        now = utcnow()
        try:
            async with self._db.write() as conn:
                try:
                    async with conn.begin_nested():
                        await conn.execute(
                            sa.insert(webhook_delivery_table).values(
                                hook=hook, key=key[:200], memory_id=memory_id, at=to_db_time(now)
                            )
                        )
                except IntegrityError:
                    pass  # two deliveries of one key at once: both stored the same text, one id
                await conn.execute(
                    sa.delete(webhook_delivery_table).where(
                        webhook_delivery_table.c.at < to_db_time(now - timedelta(days=DELIVERY_DAYS))
                    )
                )
                await conn.execute(
                    sa.update(webhook_table)
                    .where(webhook_table.c.name == hook)
                    .values(last_used_at=to_db_time(now))
                )
        except Unavailable:
            logger.warning("could not record delivery %s of webhook %s", key[:40], hook)
