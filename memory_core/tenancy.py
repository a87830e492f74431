"""The tenant map: which tenant a platform identity (workspace, guild, mail address) belongs to."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .errors import InvalidInput, UnknownIdentity
from .types import TENANT_PATTERN

__all__ = ["DEFAULT_TENANT", "IdentityKind", "TenantIdentities", "TenantMap", "check_tenant"]

DEFAULT_TENANT = "default"

IdentityKind = Literal["slack", "discord", "mail", "github"]
_KINDS: tuple[IdentityKind, ...] = ("slack", "discord", "mail", "github")


def check_tenant(tenant: str) -> str:
    """Return the tenant name if it is well formed, else raise InvalidInput."""
    if not isinstance(tenant, str) or not TENANT_PATTERN.fullmatch(tenant):
        raise InvalidInput(
            f"invalid tenant name {tenant!r}: use 1-64 lower-case letters, digits, '.', '_' or '-'"
        )
    return tenant


class TenantIdentities(BaseModel):
    """The platform identities of one tenant."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    slack: tuple[str, ...] = Field((), description="Slack team (workspace) ids, e.g. T0123ABCD.")
    discord: tuple[str, ...] = Field((), description="Discord guild ids (and DM channel ids to allow).")
    mail: tuple[str, ...] = Field(
        (), description="Recipient addresses (lore@acme.com) or domains (acme.com) that deliver here."
    )
    github: tuple[str, ...] = Field(
        (), description="GitHub repositories (acme/api) or owners (acme) whose webhook events land here."
    )


class TenantMap:
    """Resolves identities to tenants.

    With an empty map every identity belongs to the `default` tenant (one team, one memory). Once any
    tenant is configured, an identity that no tenant lists is refused with UnknownIdentity: the tenant
    always comes from who is calling, never from a field the caller types.
    """

    def __init__(self, tenants: Mapping[str, TenantIdentities] | None = None) -> None:
        self._tenants = dict(tenants or {})
        self._index: dict[tuple[str, str], str] = {}
        for tenant, identities in self._tenants.items():
            check_tenant(tenant)
            for kind in _KINDS:
                for identity in getattr(identities, kind):
                    key = (kind, identity.strip().lower())
                    if key in self._index and self._index[key] != tenant:
                        raise InvalidInput(
                            f"{kind} identity {identity!r} is mapped to both "
                            f"{self._index[key]!r} and {tenant!r}"
                        )
                    self._index[key] = tenant

    @property
    def is_open(self) -> bool:
        """True when no tenant is configured and everything goes to `default`."""
        return not self._tenants

    @property
    def tenants(self) -> list[str]:
        return sorted(self._tenants) or [DEFAULT_TENANT]

    def resolve(self, kind: IdentityKind, identity: str) -> str:
        """The tenant of a Slack team id, Discord guild id, mail address (exact address, then domain) or
        GitHub repository (owner/name, then the owner)."""
        if self.is_open:
            return DEFAULT_TENANT
        key = identity.strip().lower()
        tenant = self._index.get((kind, key))
        if tenant is None and kind == "mail" and "@" in key:
            local, _, domain = key.rpartition("@")
            base_local = local.split("+", 1)[0]
            tenant = self._index.get((kind, f"{base_local}@{domain}")) or self._index.get((kind, domain))
        if tenant is None and kind == "github" and "/" in key:
            tenant = self._index.get((kind, key.split("/", 1)[0]))  # the owner maps all its repositories
        if tenant is None:
            raise UnknownIdentity(
                f"this {kind} identity ({identity}) is not connected to any teamlore tenant"
            )
        return tenant
