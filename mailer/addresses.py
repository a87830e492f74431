"""Envelope policy: which recipients are ours (and their tenant), which senders may write to us."""

from __future__ import annotations

from memory_core import TenantMap, UnknownIdentity

from .errors import SenderNotAllowed

__all__ = ["EnvelopePolicy", "base_address"]


def base_address(address: str) -> str:
    """`Lore+Infra@Acme.com` -> `lore@acme.com`: lower-case, plus-suffix dropped."""
    local, at, domain = address.strip().strip("<>").lower().rpartition("@")
    if not at:
        return domain
    return f"{local.split('+', 1)[0]}@{domain}"


def _matches(address: str, patterns: tuple[str, ...]) -> bool:
    """An exact address, its domain, or a parent domain (`acme.com` covers `eu.acme.com`) is listed."""
    if address in patterns:
        return True
    domain = address.rpartition("@")[2]
    parts = domain.split(".")
    return any(".".join(parts[index:]) in patterns for index in range(len(parts) - 1))


class EnvelopePolicy:
    """Decides RCPT TO and MAIL FROM; raises the core errors the SMTP table turns into replies."""

    def __init__(
        self, recipients: tuple[str, ...], allowed_senders: tuple[str, ...], tenants: TenantMap
    ) -> None:
        self._recipients = recipients
        self._senders = allowed_senders
        self._tenants = tenants

    def tenant_of(self, recipient: str) -> str:
        """The tenant a recipient delivers to; UnknownIdentity for anything not ours (we never relay)."""
        address = base_address(recipient)
        if "@" not in address or not _matches(address, self._recipients):
            raise UnknownIdentity(f"mail recipient {recipient} is not a teamlore address")
        return self._tenants.resolve("mail", address)

    def check_sender(self, sender: str | None, *, authenticated: bool) -> None:
        """Raises SenderNotAllowed unless the allowlist is empty, the session authenticated, or it matches."""
        if authenticated or not self._senders:
            return
        address = base_address(sender or "")
        if "@" not in address or not _matches(address, self._senders):
            raise SenderNotAllowed(f"{sender or '<>'} may not send mail to teamlore")
