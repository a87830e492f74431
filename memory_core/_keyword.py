"""The keyword index: SQLite FTS5 (BM25) or PostgreSQL full-text search, behind one small interface."""

from __future__ import annotations

import math
import re
import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ._schema import memory_table
from ._search import CandidateFacts
from ._sqlite_reads import FACTS_SQL, fact_row, placeholders
from .errors import ConfigurationError

_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)

# Words that carry no meaning for matching; without this a question's "what", "did", "the" would let
# every memory in. Kept short on purpose: content words in other languages still match.
_STOPWORD_TEXT = """
    a about above after again against all am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has have
    having he her here hers herself him himself his how i if in into is it its itself just me more most my
    myself no nor not now of off on once only or other our ours ourselves out over own same she should so
    some such than that the their theirs them themselves then there these they this those through to too
    under until up very was we were what when where which while who whom why will with would you your yours
    yourself yourselves ever also get got"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())


def query_terms(text: str, *, limit: int = 32) -> list[str]:
    """The searchable words of a question: lower-case, no stopwords, unique, in order."""
    seen: dict[str, None] = {}
    for token in _TOKEN.findall(text.lower()):
        if token not in STOPWORDS and (len(token) > 1 or token.isdigit()):
            seen.setdefault(token, None)
    return list(seen)[:limit]


@dataclass(frozen=True)
class KeywordHits:
    """Keyword hits (memory id, score; best first) and `full_match`: what a memory holding every word
    of the question would score. The fusion compares the best hit with it, so a hit that matches one
    word of five is not taken for a perfect match just because nothing matched better."""

    hits: list[tuple[int, float]] = field(default_factory=list)
    full_match: float = 0.0


class KeywordIndex(Protocol):
    async def create(self, conn: AsyncConnection) -> None: ...

    async def add(self, conn: AsyncConnection, rows: Sequence[dict[str, Any]]) -> None: ...

    async def remove(self, conn: AsyncConnection, memory_ids: Sequence[int]) -> None: ...

    async def search(
        self, conn: AsyncConnection, terms: list[str], conditions: list[sa.ColumnElement[bool]], limit: int
    ) -> KeywordHits: ...

    async def compact(self, conn: AsyncConnection) -> None: ...

    async def count(self, conn: AsyncConnection, memory_ids: Sequence[int] | None = None) -> int: ...


# How many (term, memory) postings one keyword search may score; see SqliteKeywordIndex._affordable.
POSTINGS_BUDGET = 3000
_FREQUENCY_TTL = 300.0  # seconds a term's row count is reused
_FREQUENCY_CACHE = 20_000  # terms remembered at most
_OVERFETCH = 3
# Runs one SQL statement (text, positional parameters) and returns its rows.
_Fetch = Callable[[str, tuple[Any, ...]], list[Any]]
_FILTER_CHUNK = 500  # ids per filter query at most (well below SQLite's parameter limit)


def _quoted(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def _document(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "text": row["text"],
        "title": row.get("title") or "",
        "tags": row.get("tags") or "",
        "author": row.get("author") or "",
    }


FTS_DDL = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS memory_fts USING fts5("
    "text, title, tags, author, tokenize = 'porter unicode61 remove_diacritics 2')"
)
"""The keyword index's table (SQLite): bench/scale.py writes its big corpora with the same statement."""


class SqliteKeywordIndex:
    """FTS5 with the porter stemmer; rowid = memory id. BM25 weights favour the text, then the title.

    Deleted text must not survive in the file. With `secure_delete` (SQLite ≥ 3.42, see
    `memory_core/_sqlite_driver.py`) the table's persistent `secure-delete` option is switched on at
    every open (new and existing databases alike) and removes a row's postings in place, so `compact`
    has nothing to do. Without it, `compact` merges the whole index ('optimize') after each delete.
    """

    _fts = sa.table("memory_fts", sa.column("rowid", sa.Integer))

    def __init__(self, *, secure_delete: bool = False) -> None:
        self.secure_delete = secure_delete
        # term -> (rows containing it, when counted): counting a common word's postings in a million
        # memories costs milliseconds, and how common a word is changes slowly.
        self._frequency: dict[str, tuple[int, float]] = {}
        self._rows: tuple[int, float] = (0, -math.inf)  # (rows in the index, when counted)

    async def create(self, conn: AsyncConnection) -> None:
        await conn.exec_driver_sql(FTS_DDL)
        if self.secure_delete:
            await conn.exec_driver_sql("INSERT INTO memory_fts(memory_fts, rank) VALUES('secure-delete', 1)")
            return
        # A secure delete raises the index's format to version 5, which SQLite < 3.42 cannot read.
        version = (
            await conn.exec_driver_sql("SELECT v FROM memory_fts_config WHERE k = 'version'")
        ).scalar_one_or_none()
        if version is not None and int(version) > 4:
            raise ConfigurationError(
                f"the keyword index of this database needs SQLite 3.42 or newer (it was written with FTS5 "
                f"secure-delete), but this Python's sqlite3 is {sqlite3.sqlite_version}: install "
                "pysqlite3-binary (a dependency of teamlore) and open it again"
            )

    async def add(self, conn: AsyncConnection, rows: Sequence[dict[str, Any]]) -> None:
        if not rows:
            return
        await conn.execute(
            sa.text(
                "INSERT OR REPLACE INTO memory_fts(rowid, text, title, tags, author) "
                "VALUES (:id, :text, :title, :tags, :author)"
            ),
            [_document(r) for r in rows],
        )

    async def remove(self, conn: AsyncConnection, memory_ids: Sequence[int]) -> None:
        if memory_ids:
            await conn.execute(
                sa.text("DELETE FROM memory_fts WHERE rowid = :id"), [{"id": i} for i in memory_ids]
            )

    async def compact(self, conn: AsyncConnection) -> None:
        if self.secure_delete:
            return  # the delete itself removed the postings
        # Merging the segments drops the postings of deleted rows, so nothing of a deleted text is left.
        await conn.exec_driver_sql("INSERT INTO memory_fts(memory_fts) VALUES('optimize')")

    async def count(self, conn: AsyncConnection, memory_ids: Sequence[int] | None = None) -> int:
        if memory_ids is None:
            return int((await conn.exec_driver_sql("SELECT count(*) FROM memory_fts")).scalar_one())
        stmt = (
            sa.select(sa.func.count()).select_from(self._fts).where(self._fts.c.rowid.in_(list(memory_ids)))
        )
        return int((await conn.execute(stmt)).scalar_one())

    @staticmethod
    def _affordable(terms: list[str], frequency: dict[str, int]) -> list[str]:
        """The terms worth scoring: drop the most common ones while they would make BM25 score too many rows.

        BM25 scores every row that matches any term, so one word found in a fifth of a million memories
        costs more than the rest of the query. Such words weigh little (their IDF is small), so they are
        dropped, most common first, while the postings to score exceed `POSTINGS_BUDGET` and another
        term remains. A small memory never reaches the budget: there every term counts.
        """
        kept = sorted(terms, key=lambda t: frequency[t])
        while len(kept) > 1 and sum(frequency[t] for t in kept) > POSTINGS_BUDGET:
            kept.pop()
        return [t for t in terms if t in kept]

    @staticmethod
    def _full_match(frequency: dict[str, int], rows: int) -> float:
        """BM25 of a memory of average length holding each term once in its text: the sum of the IDFs.

        FTS5 computes IDF as ln((N - n + 0.5) / (n + 0.5)), floored at 1e-6; with tf = 1 and average
        length, a term's BM25 share is exactly its IDF. A word no memory holds counts too, with the
        largest IDF: it is part of the question, and no keyword hit answers that part.
        """
        rows = max(rows, max(frequency.values(), default=0))
        return sum(max(1e-6, math.log((rows - n + 0.5) / (n + 0.5))) for n in frequency.values())

    async def search(
        self, conn: AsyncConnection, terms: list[str], conditions: list[sa.ColumnElement[bool]], limit: int
    ) -> KeywordHits:
        def run(sync: sa.Connection) -> KeywordHits:
            def visible(ids: list[int]) -> set[int]:
                stmt = sa.select(memory_table.c.id).where(memory_table.c.id.in_(ids), *conditions)
                return set(sync.execute(stmt).scalars())

            return self.ranked(
                lambda sql, params: list(sync.exec_driver_sql(sql, params).all()), visible, terms, limit
            )

        return await conn.run_sync(run)

    def search_raw(
        self,
        cursor: Any,
        terms: list[str],
        where_sql: str,
        params: list[Any],
        limit: int,
        *,
        facts: dict[int, CandidateFacts] | None = None,
    ) -> KeywordHits:
        """`search` on a DB-API cursor (memory_core/_sqlite_reads.py); `where_sql` filters memory rows.

        `facts`, when given, receives the ranking facts of the matches that pass the filters: the filter
        check reads their rows anyway, and ranking needs them next (a superset of the hits' facts).
        """

        def visible(ids: list[int]) -> set[int]:
            if facts is None:
                sql = f"SELECT id FROM memory WHERE id IN ({placeholders(len(ids))}) AND {where_sql}"
                return {int(row[0]) for row in cursor.execute(sql, (*ids, *params))}
            shown = set()
            sql = FACTS_SQL.format(ids=placeholders(len(ids)), where=where_sql)
            for row in cursor.execute(sql, (*ids, *params)):
                facts[row[0]] = fact_row(row)
                shown.add(int(row[0]))
            return shown

        return self.ranked(
            lambda sql, args: list(cursor.execute(sql, args).fetchall()), visible, terms, limit
        )

    def ranked(
        self, fetch: _Fetch, visible: Callable[[list[int]], set[int]], terms: list[str], limit: int
    ) -> KeywordHits:
        """The best `limit` matches of `terms` among the memories `visible` keeps, through `fetch` (SQL)."""
        if not terms:
            return KeywordHits()
        frequency = self._frequencies(fetch, terms)
        full_match = self._full_match(frequency, self._row_count(fetch))
        match = " OR ".join(_quoted(t) for t in self._affordable(terms, frequency))
        # Rank inside FTS alone, then keep the best few that pass the filters. Joined to the memory table
        # in one statement, SQLite's planner walks every row of the tenant (its index) and probes the
        # matches for each: a cost that grows with the tenant, not with the matches (~5 ms at 10k).
        most = limit * _OVERFETCH
        best = fetch(_RANKED + " LIMIT ?", (match, most))
        hits = _passing(best, visible, limit)
        if len(hits) < limit and len(best) == most:
            # The filters left fewer than `limit` of the best few (another tenant's rows, a narrow tag):
            # rank every match. Below `most` matches the first list held them all already.
            hits = _passing(fetch(_RANKED, (match,)), visible, limit)
        # bm25() is "lower is better" and negative; flip it so higher is better, like similarity.
        return KeywordHits([(memory_id, -rank) for memory_id, rank in hits], full_match)

    def _frequencies(self, fetch: _Fetch, terms: list[str]) -> dict[str, int]:
        """How many rows of the index hold each term (cached for `_FREQUENCY_TTL` seconds)."""
        now = time.monotonic()
        frequency = {
            t: known[0]
            for t in terms
            if (known := self._frequency.get(t)) and now - known[1] < _FREQUENCY_TTL
        }
        unknown = [t for t in terms if t not in frequency]
        if unknown:
            counts = ", ".join("(SELECT count(*) FROM memory_fts WHERE memory_fts MATCH ?)" for _ in unknown)
            found = fetch(f"SELECT {counts}", tuple(_quoted(t) for t in unknown))[0]
            if len(self._frequency) > _FREQUENCY_CACHE:
                self._frequency.clear()
            for term, n in zip(unknown, found, strict=True):
                frequency[term] = int(n)
                self._frequency[term] = (int(n), now)
        return frequency

    def _row_count(self, fetch: _Fetch) -> int:
        rows, counted = self._rows
        now = time.monotonic()
        if now - counted >= _FREQUENCY_TTL:
            # The memory table, not the FTS table: counting FTS5 rows reads every one of them.
            rows = int(fetch("SELECT count(*) FROM memory", ())[0][0])
            self._rows = (rows, now)
        return rows


# BM25 weights favour the text, then the title; ties in memory id order, so a ranking is repeatable.
_RANKED = (
    "SELECT rowid, bm25(memory_fts, 1.0, 0.6, 0.6, 0.3) AS rank FROM memory_fts "
    "WHERE memory_fts MATCH ? ORDER BY rank, rowid"
)


def _passing(
    ranked: Sequence[Any], visible: Callable[[list[int]], set[int]], limit: int
) -> list[tuple[int, float]]:
    """The first `limit` of `ranked` (memory id, rank) that `visible` keeps, in order."""
    kept: list[tuple[int, float]] = []
    # The best `limit` first: with nothing filtered out (the common case) that is all there is to read,
    # and each check reads a whole memory row (a third of them at 1M cost ~1.3 ms).
    size = max(1, min(limit, _FILTER_CHUNK))
    for start in range(0, len(ranked), size):
        part = ranked[start : start + size]
        shown = visible([int(row[0]) for row in part])
        kept.extend((int(row[0]), float(row[1])) for row in part if int(row[0]) in shown)
        if len(kept) >= limit:
            break
    return kept[:limit]


class PostgresKeywordIndex:
    """PostgreSQL full-text search: a tsvector per memory (english config) with a GIN index."""

    _search = sa.table("memory_search", sa.column("memory_id", sa.Integer), sa.column("document", sa.Text))

    async def create(self, conn: AsyncConnection) -> None:
        await conn.exec_driver_sql(
            "CREATE TABLE IF NOT EXISTS memory_search ("
            "memory_id INTEGER PRIMARY KEY REFERENCES memory(id) ON DELETE CASCADE, "
            "document tsvector NOT NULL)"
        )
        await conn.exec_driver_sql(
            "CREATE INDEX IF NOT EXISTS ix_memory_search_document ON memory_search USING GIN (document)"
        )

    async def add(self, conn: AsyncConnection, rows: Sequence[dict[str, Any]]) -> None:
        if not rows:
            return
        await conn.execute(
            sa.text(
                "INSERT INTO memory_search(memory_id, document) VALUES (:id, "
                "setweight(to_tsvector('english', :text), 'A')"
                " || setweight(to_tsvector('english', :title), 'B')"
                " || setweight(to_tsvector('simple', :tags), 'B')"
                " || setweight(to_tsvector('simple', :author), 'C'))"
                " ON CONFLICT (memory_id) DO UPDATE SET document = EXCLUDED.document"
            ),
            [_document(r) for r in rows],
        )

    async def remove(self, conn: AsyncConnection, memory_ids: Sequence[int]) -> None:
        if memory_ids:
            await conn.execute(
                sa.text("DELETE FROM memory_search WHERE memory_id = ANY(:ids)"), {"ids": list(memory_ids)}
            )

    async def compact(self, conn: AsyncConnection) -> None:
        return None  # rows are gone at commit; VACUUM reclaims the space on its own schedule

    async def count(self, conn: AsyncConnection, memory_ids: Sequence[int] | None = None) -> int:
        stmt = sa.select(sa.func.count()).select_from(self._search)
        if memory_ids is not None:
            stmt = stmt.where(self._search.c.memory_id.in_(list(memory_ids)))
        return int((await conn.execute(stmt)).scalar_one())

    async def search(
        self, conn: AsyncConnection, terms: list[str], conditions: list[sa.ColumnElement[bool]], limit: int
    ) -> KeywordHits:
        words = [w for w in (re.sub(r"[^\w]", "", t) for t in terms) if w]
        if not words:
            return KeywordHits()
        tsquery = sa.func.to_tsquery("english", " | ".join(words))
        # Cover density without normalisation: scores stay proportional to how much of the question a
        # memory holds, so they compare with `full_match` below.
        rank = sa.func.ts_rank_cd(self._search.c.document, tsquery)
        stmt = (
            sa.select(memory_table.c.id, rank.label("rank"))
            .select_from(memory_table.join(self._search, self._search.c.memory_id == memory_table.c.id))
            .where(self._search.c.document.op("@@")(tsquery), *conditions)
            .order_by(rank.desc())
            .limit(limit)
        )
        rows = (await conn.execute(stmt)).all()
        # A memory whose text is exactly the question's words ranks as a full match would.
        weight_a: sa.ColumnElement[str] = sa.literal_column("'A'")
        document = sa.func.setweight(sa.func.to_tsvector("english", " ".join(words)), weight_a)
        full_match = (await conn.execute(sa.select(sa.func.ts_rank_cd(document, tsquery)))).scalar_one()
        return KeywordHits([(int(r[0]), float(r[1])) for r in rows], float(full_match or 0.0))


def keyword_index_for(dialect: str, *, secure_delete: bool = False) -> KeywordIndex:
    if dialect == "sqlite":
        return SqliteKeywordIndex(secure_delete=secure_delete)
    return PostgresKeywordIndex()
