"""teamlore's memory core: the one async, tenant-scoped API every front-end uses (no chat, mail or MCP)."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .config import CoreOptions, CoreSettings, SearchSettings
    from .core import MemoryCore, ProgressCallback, SearchMode
    from .embedding import DEFAULT_MODEL, Embedder, load_embedder
    from .errors import (
        ConfigurationError,
        CredentialDetected,
        Duplicate,
        InvalidInput,
        ModelMismatch,
        NotFound,
        PermissionDenied,
        TeamloreError,
        TooLarge,
        Unavailable,
        UnknownIdentity,
    )
    from .keys import ApiKeyInfo, ApiKeys, require_scope
    from .tenancy import DEFAULT_TENANT, TenantIdentities, TenantMap, check_tenant
    from .types import (
        Actor,
        Conflict,
        ExportRecord,
        Finding,
        Hit,
        Importance,
        Memory,
        MemoryDraft,
        MemoryPatch,
        QualityReport,
        QueryFilters,
        Reflection,
        ReflectionPoint,
        Scope,
        ScoreBreakdown,
        Severity,
        Source,
        Stats,
        StoreResult,
        TagCount,
        TimelineEntry,
        TrendPoint,
    )

# Names resolve on first use (PEP 562), so importing one light module of the package, or the
# package for its settings model, does not pull in every heavy dependency (see teamlore.cli).
_WHERE = {
    "CoreOptions": ".config",
    "CoreSettings": ".config",
    "SearchSettings": ".config",
    "MemoryCore": ".core",
    "ProgressCallback": ".core",
    "SearchMode": ".core",
    "DEFAULT_MODEL": ".embedding",
    "Embedder": ".embedding",
    "load_embedder": ".embedding",
    "ConfigurationError": ".errors",
    "CredentialDetected": ".errors",
    "Duplicate": ".errors",
    "InvalidInput": ".errors",
    "ModelMismatch": ".errors",
    "NotFound": ".errors",
    "PermissionDenied": ".errors",
    "TeamloreError": ".errors",
    "TooLarge": ".errors",
    "Unavailable": ".errors",
    "UnknownIdentity": ".errors",
    "ApiKeyInfo": ".keys",
    "ApiKeys": ".keys",
    "Scope": ".types",
    "require_scope": ".keys",
    "DEFAULT_TENANT": ".tenancy",
    "TenantIdentities": ".tenancy",
    "TenantMap": ".tenancy",
    "check_tenant": ".tenancy",
    "Actor": ".types",
    "Conflict": ".types",
    "ExportRecord": ".types",
    "Finding": ".types",
    "Hit": ".types",
    "Importance": ".types",
    "Memory": ".types",
    "MemoryDraft": ".types",
    "MemoryPatch": ".types",
    "QualityReport": ".types",
    "QueryFilters": ".types",
    "Reflection": ".types",
    "ReflectionPoint": ".types",
    "ScoreBreakdown": ".types",
    "Severity": ".types",
    "Source": ".types",
    "Stats": ".types",
    "StoreResult": ".types",
    "TagCount": ".types",
    "TimelineEntry": ".types",
    "TrendPoint": ".types",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        value = getattr(importlib.import_module(_WHERE[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "DEFAULT_MODEL",
    "DEFAULT_TENANT",
    "Actor",
    "ApiKeyInfo",
    "ApiKeys",
    "ConfigurationError",
    "Conflict",
    "CoreOptions",
    "CoreSettings",
    "CredentialDetected",
    "Duplicate",
    "Embedder",
    "ExportRecord",
    "Finding",
    "Hit",
    "Importance",
    "InvalidInput",
    "Memory",
    "MemoryCore",
    "MemoryDraft",
    "MemoryPatch",
    "ModelMismatch",
    "NotFound",
    "PermissionDenied",
    "ProgressCallback",
    "QualityReport",
    "QueryFilters",
    "Reflection",
    "ReflectionPoint",
    "Scope",
    "ScoreBreakdown",
    "SearchMode",
    "SearchSettings",
    "Severity",
    "Source",
    "Stats",
    "StoreResult",
    "TagCount",
    "TeamloreError",
    "TenantIdentities",
    "TenantMap",
    "TimelineEntry",
    "TooLarge",
    "TrendPoint",
    "Unavailable",
    "UnknownIdentity",
    "check_tenant",
    "load_embedder",
    "require_scope",
]
