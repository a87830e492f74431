"""SQL tables (SQLModel): the source of truth, vectors included. Private to the core."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

# Timestamps are aware UTC everywhere (SQLModel's UTCDateTime: `timestamptz` on PostgreSQL, UTC text on
# SQLite); the core converts anything it is given with `to_db_time` first.


class MemoryRow(SQLModel, table=True):
    __tablename__ = "memory"
    __table_args__ = (
        sa.UniqueConstraint("tenant", "content_hash", name="uq_memory_tenant_hash"),
        sa.Index("ix_memory_tenant_created", "tenant", "created_at"),
        # A delete clears the links that point at the deleted memory; without these it scans every row
        # (~80 ms at 100k). Partial: most memories link to nothing.
        sa.Index(
            "ix_memory_supersedes",
            "supersedes",
            sqlite_where=sa.text("supersedes IS NOT NULL"),
            postgresql_where=sa.text("supersedes IS NOT NULL"),
        ),
        sa.Index(
            "ix_memory_superseded_by",
            "superseded_by",
            sqlite_where=sa.text("superseded_by IS NOT NULL"),
            postgresql_where=sa.text("superseded_by IS NOT NULL"),
        ),
        # Ids are what people type (`/forget #42`): a deleted id must never be handed out again.
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    tenant: str = Field(max_length=64, index=True)
    text: str
    kind: str = Field(max_length=32)
    tags: str = ""  # space-separated, normalised; memory_tag holds them for filtering
    importance: str = Field(max_length=16)
    source: str = Field(max_length=16)
    source_ref: str | None = Field(default=None, max_length=1000, index=True)
    title: str | None = Field(default=None, max_length=500)
    author: str | None = Field(default=None, max_length=200)
    author_id: str | None = Field(default=None, max_length=200)
    created_at: datetime
    updated_at: datetime
    expires_at: datetime | None = Field(default=None, index=True)
    supersedes: int | None = None
    superseded_by: int | None = None
    links: str = ""  # space-separated ids (a reflection's sources)
    content_hash: str = Field(max_length=64)
    embedding_model: str = Field(max_length=200)
    embedding: bytes = Field(sa_column=sa.Column(sa.LargeBinary, nullable=False))
    access_count: int = 0
    last_accessed_at: datetime | None = None


class MemoryTagRow(SQLModel, table=True):
    __tablename__ = "memory_tag"
    __table_args__ = (sa.Index("ix_memory_tag_tenant_tag", "tenant", "tag"),)

    memory_id: int = Field(
        sa_column=sa.Column(sa.Integer, sa.ForeignKey("memory.id", ondelete="CASCADE"), primary_key=True)
    )
    tag: str = Field(sa_column=sa.Column(sa.String(64), primary_key=True))
    tenant: str = Field(max_length=64)


class ChangeRow(SQLModel, table=True):
    """Every write and delete gets a sequence number; each process's index replays what it has not seen."""

    __tablename__ = "change_log"

    seq: int | None = Field(default=None, primary_key=True)
    tenant: str = Field(max_length=64)
    memory_id: int
    op: str = Field(max_length=8)  # "upsert" | "delete"
    at: datetime


class AuditRow(SQLModel, table=True):
    """Who deleted (or otherwise destroyed) what id, when. Never any content."""

    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    tenant: str = Field(max_length=64, index=True)
    action: str = Field(max_length=32)
    memory_id: int
    actor_id: str = Field(max_length=200)
    actor_name: str | None = Field(default=None, max_length=200)
    at: datetime


class MetaRow(SQLModel, table=True):
    """Key/value facts about the database: schema version, embedding model and dimension."""

    __tablename__ = "meta"

    key: str = Field(primary_key=True, max_length=64)
    value: str


class QueryLogRow(SQLModel, table=True):
    """Queries and how well they were answered: the raw material of knowledge-gap findings."""

    __tablename__ = "query_log"
    __table_args__ = (sa.Index("ix_query_log_tenant_at", "tenant", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    tenant: str = Field(max_length=64)
    text: str
    best_similarity: float | None = None
    hits: int = 0
    at: datetime


class IngestFailureRow(SQLModel, table=True):
    __tablename__ = "ingest_failure"
    __table_args__ = (sa.Index("ix_ingest_failure_tenant_at", "tenant", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    tenant: str | None = Field(default=None, max_length=64)
    source: str = Field(max_length=16)
    reason: str
    ref: str | None = Field(default=None, max_length=1000)
    at: datetime


class QualityReportRow(SQLModel, table=True):
    __tablename__ = "quality_report"
    __table_args__ = (sa.Index("ix_quality_report_tenant_at", "tenant", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    tenant: str = Field(max_length=64)
    score: int
    findings: str  # JSON list of findings
    created_at: datetime


class ApiKeyRow(SQLModel, table=True):
    """API keys for MCP over HTTP and the REST API; only a hash is stored."""

    __tablename__ = "api_key"

    id: int | None = Field(default=None, primary_key=True)
    tenant: str = Field(max_length=64, index=True)
    name: str = Field(default="", max_length=200)
    prefix: str = Field(max_length=16, index=True)
    key_hash: str = Field(max_length=128, unique=True)
    scope: str = Field(max_length=16)
    created_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


class WebhookRow(SQLModel, table=True):
    """Signed webhooks: the secret is kept encrypted (HMAC verification needs it), see memory_core.hooks."""

    __tablename__ = "webhook"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64, unique=True)
    tenant: str = Field(max_length=64, index=True)
    secret_box: str = Field(max_length=200)  # base64(nonce + AES-GCM ciphertext), the name bound in
    created_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


class WebhookDeliveryRow(SQLModel, table=True):
    """Idempotency keys already stored per hook, so a redelivery answers the same memory id."""

    __tablename__ = "webhook_delivery"

    hook: str = Field(primary_key=True, max_length=64)
    key: str = Field(primary_key=True, max_length=200)
    memory_id: int
    at: datetime = Field(index=True)


memory_table: sa.Table = MemoryRow.__table__  # type: ignore[attr-defined]
memory_tag_table: sa.Table = MemoryTagRow.__table__  # type: ignore[attr-defined]
change_table: sa.Table = ChangeRow.__table__  # type: ignore[attr-defined]
audit_table: sa.Table = AuditRow.__table__  # type: ignore[attr-defined]
meta_table: sa.Table = MetaRow.__table__  # type: ignore[attr-defined]
query_log_table: sa.Table = QueryLogRow.__table__  # type: ignore[attr-defined]
ingest_failure_table: sa.Table = IngestFailureRow.__table__  # type: ignore[attr-defined]
quality_report_table: sa.Table = QualityReportRow.__table__  # type: ignore[attr-defined]
api_key_table: sa.Table = ApiKeyRow.__table__  # type: ignore[attr-defined]
webhook_table: sa.Table = WebhookRow.__table__  # type: ignore[attr-defined]
webhook_delivery_table: sa.Table = WebhookDeliveryRow.__table__  # type: ignore[attr-defined]

metadata = SQLModel.metadata
SCHEMA_VERSION = "1"


def create_missing_indexes(conn: sa.Connection) -> None:
    """The memory table's indexes added after a database was made (`create_all` skips existing tables)."""
    existing = {index["name"] for index in sa.inspect(conn).get_indexes(memory_table.name)}
    for index in memory_table.indexes:
        if index.name not in existing:
            index.create(conn)
