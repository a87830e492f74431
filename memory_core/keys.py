"""API keys: tenant-bound bearer credentials (MCP over HTTP, REST), stored hashed, shown once."""

from __future__ import annotations

import builtins
import hashlib
import hmac
import logging
import re
import secrets
import time
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict
from sqlalchemy.engine import RowMapping

from ._db import from_db_time, revoke_row, to_db_time, utcnow
from ._key_cache import KeyCache
from ._schema import api_key_table, meta_table
from .errors import InvalidInput, PermissionDenied, UnknownIdentity
from .tenancy import check_tenant
from .types import Actor, Scope

if TYPE_CHECKING:
    from .core import MemoryCore

__all__ = ["KEY_PREFIX", "ApiKeyInfo", "ApiKeys", "Scope", "require_scope"]

logger = logging.getLogger(__name__)

KEY_PREFIX = "tlk_"
"""Every key starts with this, so secret scanners and people recognise a teamlore key."""

# tlk_<8 hex: the public prefix>_<43 url-safe chars: 256 random bits>
_PREFIX_HEX = 8
_KEY_SHAPE = re.compile(rf"^tlk_([0-9a-f]{{{_PREFIX_HEX}}})_([A-Za-z0-9_-]{{20,128}})$")
# Writing last_used_at on every request would put a database write on every MCP call.
_LAST_USED_GRANULARITY = timedelta(minutes=1)


def require_scope(scope: Scope, needed: Scope, action: str) -> None:
    """Raise PermissionDenied, saying which key would work, when `scope` does not cover `action`.

    The one scope rule of every front-end that takes API keys (REST, MCP over HTTP).
    """
    if not scope.allows(needed):
        raise PermissionDenied(
            f"this API key has {scope.value} scope and cannot {action}; that needs a key with "
            f"{needed.value} scope (teamlore keys create --scope {needed.value})"
        )


class ApiKeyInfo(BaseModel):
    """An API key as everyone but its holder sees it: never the secret, never its hash."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: int
    tenant: str
    name: str
    prefix: str
    scope: Scope
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    @property
    def actor(self) -> Actor:
        """Who acts with this key, the same in every front-end (MCP, REST): deletes are the key's own."""
        return Actor(
            id=f"apikey:{self.id}", name=self.name or self.prefix, is_admin=self.scope is Scope.ADMIN
        )


def _hash(secret: str) -> str:
    # The secret carries 256 random bits, so a fast unsalted hash is enough: there is nothing to guess.
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _row_to_info(row: RowMapping) -> ApiKeyInfo:
    return ApiKeyInfo(
        id=row["id"],
        tenant=row["tenant"],
        name=row["name"],
        prefix=row["prefix"],
        scope=Scope(row["scope"]),
        created_at=from_db_time(row["created_at"]),  # type: ignore[arg-type]
        last_used_at=from_db_time(row["last_used_at"]),
        revoked_at=from_db_time(row["revoked_at"]),
    )


def parse_scope(value: str | Scope) -> Scope:
    """A Scope from its name; InvalidInput names the choices."""
    try:
        return Scope(str(value).strip().lower())
    except ValueError:
        raise InvalidInput(f"unknown scope {value!r}: use read, write or admin") from None


_COLUMNS = [c for c in api_key_table.c if c.name != "key_hash"]

_MAX_CACHED_KEYS = 10_000
_clock = time.monotonic  # what the key cache's ages are measured with (tests move it)


class ApiKeys:
    """Create, list, revoke and check API keys in the core's database.

    A key is `tlk_<prefix>_<secret>`; only its SHA-256 is stored, and the whole key is returned once,
    by `create`. The prefix (`tlk_1a2b3c4d`) is public: it names the key in lists and logs.
    """

    def __init__(self, core: MemoryCore) -> None:
        self._db = core.database
        self._core = core
        self._ttl = core.settings.key_cache_seconds
        self._cache: KeyCache[ApiKeyInfo] = core.key_cache

    async def create(self, tenant: str, scope: Scope | str, name: str = "") -> tuple[str, ApiKeyInfo]:
        """Make a key for `tenant` with `scope`. Returns (the secret, shown only now; its info).

        Raises:
            InvalidInput: bad tenant name, unknown scope or a name over 200 characters.
        """
        check_tenant(tenant)
        chosen = parse_scope(scope)
        name = name.strip()
        if len(name) > 200:
            raise InvalidInput("the key name is longer than 200 characters")
        public = secrets.token_hex(_PREFIX_HEX // 2)
        secret = f"{KEY_PREFIX}{public}_{secrets.token_urlsafe(32)}"
        async with self._db.write() as conn:
            result = await conn.execute(
                sa.insert(api_key_table).values(
                    tenant=tenant,
                    name=name,
                    prefix=f"{KEY_PREFIX}{public}",
                    key_hash=_hash(secret),
                    scope=chosen.value,
                    created_at=to_db_time(utcnow()),
                )
            )
            key_id = result.inserted_primary_key[0] if result.inserted_primary_key else None
            row = (
                (await conn.execute(sa.select(*_COLUMNS).where(api_key_table.c.id == key_id)))
                .mappings()
                .one()
            )
        info = _row_to_info(row)
        logger.info(
            "created API key %s (#%d) for tenant %s with scope %s", info.prefix, info.id, tenant, chosen
        )
        return secret, info

    async def list(self, tenant: str | None = None) -> builtins.list[ApiKeyInfo]:
        """Every key (revoked ones too), of one tenant or of all, oldest first."""
        query = sa.select(*_COLUMNS).order_by(api_key_table.c.id)
        if tenant is not None:
            query = query.where(api_key_table.c.tenant == check_tenant(tenant))
        async with self._db.read() as conn:
            return [_row_to_info(row) for row in (await conn.execute(query)).mappings()]

    async def revoke(self, id_or_prefix: int | str) -> ApiKeyInfo:
        """Revoke a key named by its id (`3`, `#3`) or prefix (`tlk_1a2b3c4d`, `1a2b3c4d`); twice is harmless.

        Raises:
            InvalidInput: no key, or more than one key, matches.
        """
        condition = self._match(id_or_prefix)
        async with self._db.write() as conn:
            rows = (await conn.execute(sa.select(*_COLUMNS).where(condition))).mappings().all()
            if not rows:
                raise InvalidInput(
                    f"no API key {id_or_prefix!s}; `teamlore keys list` shows the keys and their ids"
                )
            if len(rows) > 1:
                raise InvalidInput(f"{id_or_prefix!s} matches {len(rows)} keys; revoke by id instead")
            row = rows[0]
            row = await revoke_row(conn, api_key_table, _COLUMNS, row)
        info = _row_to_info(row)
        self._cache.forget(info.id)
        logger.info("revoked API key %s (#%d) of tenant %s", info.prefix, info.id, info.tenant)
        return info

    async def get(self, key_id: int) -> ApiKeyInfo:
        """One key by id, revoked or not (sessions made from a key check it is still active).

        Raises:
            InvalidInput: no key with this id.
        """
        async with self._db.read() as conn:
            row = (
                (await conn.execute(sa.select(*_COLUMNS).where(api_key_table.c.id == key_id)))
                .mappings()
                .first()
            )
        if row is None:
            raise InvalidInput(f"no API key {key_id}")
        return _row_to_info(row)

    async def claim_first_use(self, key_id: int) -> bool:
        """Mark an active, never used key as used; True only for the one caller that did (one-time links).

        A use of the key through `authenticate` in this process counts, even before its background
        write; in another process, once written (within half a second while it serves)."""
        await self._cache.write_last_used()
        if key_id in self._cache.used:
            return False
        async with self._db.write() as conn:
            result = await conn.execute(
                sa.update(api_key_table)
                .where(
                    api_key_table.c.id == key_id,
                    api_key_table.c.last_used_at.is_(None),
                    api_key_table.c.revoked_at.is_(None),
                )
                .values(last_used_at=to_db_time(utcnow()))
            )
        return bool(result.rowcount == 1)

    async def signing_secret(self, purpose: str) -> bytes:
        """A random 256-bit secret for `purpose` (e.g. "web-session"), made once and kept in the database.

        Every process on the database gets the same secret, so what one signs (a session cookie, a
        sign-in link printed by the CLI) another can check, and it survives restarts.
        """
        if not re.fullmatch(r"[a-z0-9-]{1,40}", purpose):
            raise InvalidInput("a secret's purpose is a short lower-case name")
        name = f"secret:{purpose}"
        lookup = sa.select(meta_table.c.value).where(meta_table.c.key == name)
        async with self._db.read() as conn:
            value = (await conn.execute(lookup)).scalar()
        if value is None:
            # Writes are serialised across processes (see Database.write), so look again under the lock.
            async with self._db.write() as conn:
                value = (await conn.execute(lookup)).scalar()
                if value is None:
                    value = secrets.token_hex(32)
                    await conn.execute(sa.insert(meta_table).values(key=name, value=value))
        return bytes.fromhex(value)

    @staticmethod
    def _match(id_or_prefix: int | str) -> sa.ColumnElement[bool]:
        if isinstance(id_or_prefix, int):
            return api_key_table.c.id == id_or_prefix
        text = id_or_prefix.strip()
        # An id is `#3` or a number shorter than a prefix: a bare prefix may be all digits (`12345678`).
        if text.lstrip("#").isdigit() and (text.startswith("#") or len(text) < _PREFIX_HEX):
            return api_key_table.c.id == int(text.lstrip("#"))
        if not text.startswith(KEY_PREFIX):
            text = KEY_PREFIX + text
        shape = _KEY_SHAPE.match(text)
        if shape is not None:
            # Someone pasted the whole secret: find its key by the prefix inside it.
            text = KEY_PREFIX + shape.group(1)
        return api_key_table.c.prefix == text

    async def authenticate(self, secret: str) -> ApiKeyInfo:
        """The active key whose secret this is.

        A key this process checked less than `key_cache_seconds` ago is not read again (one database
        read per key and interval, not per request): revoked here, it stops working at once; revoked
        by another process, within that time. Unknown keys are never cached, so a key created
        elsewhere works at once. The last use is written in the background (at most once a minute).

        Raises:
            UnknownIdentity: malformed, unknown or revoked key (the message never echoes the secret).
        """
        shape = _KEY_SHAPE.match(secret.strip())
        if shape is None:
            raise UnknownIdentity("this is not a teamlore API key (they look like tlk_1a2b3c4d_…)")
        digest = _hash(secret.strip())
        cached = self._cache.checked.get(digest)
        if cached is not None and _clock() - cached[1] < self._ttl:
            info = cached[0]
        else:
            info = await self._read(digest, KEY_PREFIX + shape.group(1))
        await self._touch(info)
        return info

    async def _read(self, digest: str, prefix: str) -> ApiKeyInfo:
        checked_at = _clock()  # before the read: a revoke committed after it is seen next time
        async with self._db.read() as conn:
            rows = (
                (await conn.execute(sa.select(api_key_table).where(api_key_table.c.prefix == prefix)))
                .mappings()
                .all()
            )
        row = next((r for r in rows if hmac.compare_digest(r["key_hash"], digest)), None)
        self._cache.checked.pop(digest, None)
        if row is None:
            raise UnknownIdentity("unknown API key")
        info = _row_to_info(row)
        if not info.active:
            raise UnknownIdentity(f"the API key {info.prefix} was revoked")
        if self._ttl > 0:
            if len(self._cache.checked) >= _MAX_CACHED_KEYS:  # the oldest entry goes first
                del self._cache.checked[next(iter(self._cache.checked))]
            self._cache.checked[digest] = (info, checked_at)
        return info

    async def _touch(self, info: ApiKeyInfo) -> None:
        now = utcnow()
        last = max(filter(None, (info.last_used_at, self._cache.used.get(info.id))), default=None)
        if last is not None and now - last < _LAST_USED_GRANULARITY:
            return
        self._cache.used[info.id] = self._cache.unwritten[info.id] = now
        if not self._core.background_running:
            await self._cache.write_last_used()
