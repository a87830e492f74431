"""The FAISS vector index: a per-process cache derived from SQL, one index per tenant, with snapshots.

Memory ids are mapped to internal labels. Updating or deleting a memory retires its label: a flat
index removes the vector at once; an HNSW index (which cannot remove) keeps a tombstone that search
skips, and is rebuilt when tombstones pass a fifth of it. So a deleted memory is never returned,
whichever index serves the tenant.

Small tenants get an exact (flat) index; above `approximate_above` vectors (5,000 by default: the
exact scan's cost against HNSW's by tenant size is `bench/index_choice.py`'s table), HNSW (M=32,
efConstruction=40, efSearch=128: recall@10 against exact is measured in docs/benchmarks.md). A
filtered search over an HNSW index that allows few memories (a tag, an author, a week) is answered
exactly over those memories' vectors instead: graph search with a selective filter can miss.

Building an HNSW index takes minutes at a million vectors, so it never happens on a caller's path:
the index in use (flat: exact, or the old HNSW with its tombstones) keeps answering while a
background thread builds the new one in batches (on FAISS's threads, niced: a query's thread goes
first, and a query's FAISS call runs on its own thread, see `_one_thread`), from copies of the
live vectors taken batch by batch. Writes during the build go to the index in use and are
journalled; the builder replays the journal (new vectors added, retired ones tombstoned) and swaps
the new index in under the lock. A build that fails leaves the index in use as it was; closing
cancels a build between two batches.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt


class _Faiss:
    """The faiss module, imported on first use: a process that never searches never pays for it."""

    def __getattr__(self, name: str) -> Any:
        module = importlib.import_module("faiss")
        globals()["faiss"] = module
        return getattr(module, name)


# faiss's bundled stubs describe its SWIG layer wrongly (remove_ids, SearchParameters*, IndexIDMap
# attributes): treat the module as untyped instead of scattering ignores.
faiss: Any = _Faiss()

logger = logging.getLogger(__name__)

Vectors = npt.NDArray[np.float32]

_HNSW_M = 32
# 40, not 80: a third less build time (100k derived vectors, same run: 35-41 s against 55 s) for
# recall@10 0.993 instead of 0.998; the first open of a big database waits that much less for HNSW.
_HNSW_EF_CONSTRUCTION = 40
_HNSW_EF_SEARCH = 128
_REBUILD_DEAD_FRACTION = 0.2
# A filtered HNSW search allowing at most this many memories is done exactly (a few ms of dot products).
_EXACT_FILTER_MAX = 20_000
# Inserts of fewer vectors than this into an HNSW index in use run on one OpenMP thread (`_insert`).
_PARALLEL_INSERT_MIN = 256
# A background build adds this many vectors per FAISS call (FAISS spreads each call over its threads):
# big enough to keep the threads busy, small enough that a cancel or a copy waits only a moment.
_BUILD_BATCH = 20_000
# The builder swaps the new index in once fewer writes than this wait to be replayed onto it.
_BUILD_REPLAY_UNDER_LOCK = 500
# After a failed build, the next attempt waits this long (a build that fails for lack of memory
# would otherwise start again on every catch-up).
_BUILD_RETRY_SECONDS = 300.0
# The builder thread's nice value: queries on the index in use go first on a busy machine.
_BUILD_NICENESS = 10

OnBuilt = Callable[[int], None]


@dataclass
class _Build:
    """One background build: what it copies, and the writes made to the index in use meanwhile."""

    approximate: bool
    start_label: int  # labels from here on were added during the build
    total: int = 0  # vectors to copy at the start
    done: int = 0  # of those, added to the new index so far
    added: list[int] = field(default_factory=list)  # labels added to the index in use since the start
    retired: list[int] = field(default_factory=list)  # labels retired from it since the start
    cancelled: threading.Event = field(default_factory=threading.Event)
    finished: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None


def _new_faiss_index(dim: int, approximate: bool) -> faiss.Index:
    if approximate:
        inner = faiss.IndexHNSWFlat(dim, _HNSW_M, faiss.METRIC_INNER_PRODUCT)
        inner.hnsw.efConstruction = _HNSW_EF_CONSTRUCTION
        inner.hnsw.efSearch = _HNSW_EF_SEARCH
        return faiss.IndexIDMap(inner)
    return faiss.IndexIDMap2(faiss.IndexFlatIP(dim))


def _add_batch(index: faiss.Index, vectors: Vectors, labels: npt.NDArray[np.int64]) -> None:
    """One step of a background build (FAISS releases the GIL and uses its threads in here)."""
    index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), labels)


@contextmanager
def _one_thread() -> Iterator[None]:
    """FAISS on one OpenMP thread in this thread (the setting is per thread) while the block runs.

    One question is too little work to share: on 2 busy cores the OpenMP team's hand-offs turned a
    0.6 ms flat search over 10k vectors into 15 ms (HNSW: 0.5 into 5 ms). Bulk work elsewhere keeps
    its threads.
    """
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)


def _insert(
    index: faiss.Index, vectors: Vectors, labels: npt.NDArray[np.int64], *, approximate: bool
) -> None:
    """Add vectors to the index in use: on this thread alone, or (many into HNSW) in a thread of their own.

    OpenMP keeps a team of workers for every thread that has run a parallel region, for as long as that
    thread lives, and PyTorch imported before FAISS makes both share one OpenMP runtime. Once it manages
    more threads than there are cores its workers stop spin-waiting between regions: after an HNSW
    tenant took inserts in the core's worker threads, PyTorch's encode of one question went from 5.4 to
    11 ms for the rest of the process (the torch runtime's, and `bench peers`' reference). A few
    vectors gain nothing from a team anyway (see `_one_thread`), nor does a flat index (its add is a
    copy); a big batch into HNSW runs FAISS's threads in a thread that ends with the call, and its team
    with it.
    """
    matrix = np.ascontiguousarray(vectors, dtype=np.float32)
    if not approximate or len(labels) < _PARALLEL_INSERT_MIN:
        with _one_thread():
            index.add_with_ids(matrix, labels)
        return
    failed: list[BaseException] = []

    def insert() -> None:
        try:
            index.add_with_ids(matrix, labels)
        except BaseException as exc:  # re-raised in the caller's thread
            failed.append(exc)

    worker = threading.Thread(target=insert, name="teamlore-index-insert")
    worker.start()
    worker.join()
    if failed:
        raise failed[0]


class TenantIndex:
    """The vectors of one tenant. Thread-safe; every method is blocking (call from a worker thread)."""

    def __init__(self, dim: int, *, approximate: bool = False) -> None:
        self.dim = dim
        self.approximate = approximate
        self._lock = threading.RLock()
        self._index = _new_faiss_index(dim, approximate)
        self._label_of: dict[int, int] = {}
        self._memory_of: dict[int, int] = {}
        self._dead: set[int] = set()
        self._next_label = 1
        self._positions: dict[int, int] | None = None  # HNSW: label -> row in its storage (lazy)
        self._dead_selector: tuple[faiss.IDSelector, faiss.IDSelector] | None = None
        self._build: _Build | None = None
        self._failed_at: float | None = None

    def __len__(self) -> int:
        with self._lock:
            return len(self._label_of)

    @property
    def tombstones(self) -> int:
        return len(self._dead)

    def memory_ids(self) -> set[int]:
        with self._lock:
            return set(self._label_of)

    def upsert(self, memory_ids: list[int], vectors: Vectors) -> None:
        if not memory_ids:
            return
        with self._lock:
            self._retire([m for m in memory_ids if m in self._label_of])
            labels = np.arange(self._next_label, self._next_label + len(memory_ids), dtype=np.int64)
            self._next_label += len(memory_ids)
            appended_at = self._index.ntotal
            _insert(self._index, vectors, labels, approximate=self.approximate)
            label_list = labels.tolist()
            if self.approximate and self._positions is not None:
                # HNSW never moves a stored vector: appended rows extend the map instead of dropping it.
                self._positions.update(
                    zip(label_list, range(appended_at, appended_at + len(label_list)), strict=True)
                )
            else:
                self._positions = None
            for memory_id, label in zip(memory_ids, label_list, strict=True):
                self._label_of[memory_id] = label
                self._memory_of[label] = memory_id
            if self._build is not None:
                self._build.added.extend(label_list)

    def remove(self, memory_ids: Iterable[int]) -> None:
        with self._lock:
            self._retire([m for m in memory_ids if m in self._label_of])

    def _retire(self, memory_ids: list[int]) -> None:
        if not memory_ids:
            return
        labels = [self._label_of.pop(m) for m in memory_ids]
        for label in labels:
            del self._memory_of[label]
        if self._build is not None:
            self._build.retired.extend(labels)
        if self.approximate:
            self._dead.update(labels)
            self._dead_selector = None
        else:
            self._index.remove_ids(np.asarray(labels, dtype=np.int64))
            self._positions = None

    @property
    def needs_rebuild(self) -> bool:
        total = len(self._label_of) + len(self._dead)
        return bool(self._dead) and len(self._dead) > _REBUILD_DEAD_FRACTION * total

    def search(self, query: Vectors, k: int, allowed: set[int] | None = None) -> list[tuple[int, float]]:
        """The k nearest memory ids with cosine similarity, best first; only ids in `allowed` if given."""
        with self._lock:
            live = len(self._label_of)
            if live == 0 or k <= 0:
                return []
            params = None
            if allowed is not None:
                labels = [self._label_of[m] for m in allowed if m in self._label_of]
                if not labels:
                    return []
                if self.approximate and len(labels) <= _EXACT_FILTER_MAX:
                    return self._exact(query, labels, min(k, len(labels)))
                selector = faiss.IDSelectorBatch(np.asarray(labels, dtype=np.int64))
                params = (
                    faiss.SearchParametersHNSW(sel=selector, efSearch=max(_HNSW_EF_SEARCH, k))
                    if self.approximate
                    else faiss.SearchParameters(sel=selector)
                )
                k = min(k, len(labels))
            fetch = k
            if self.approximate and params is None:
                # Tombstoned labels still occupy HNSW nodes: the graph walks through them, results skip them.
                params = faiss.SearchParametersHNSW(efSearch=max(_HNSW_EF_SEARCH, k))
                if self._dead:
                    params.sel = self._not_dead()
            with _one_thread():
                scores, labels_out = self._index.search(
                    query.reshape(1, -1).astype(np.float32), fetch, params=params
                )
            hits: list[tuple[int, float]] = []
            for score, label in zip(scores[0].tolist(), labels_out[0].tolist(), strict=True):
                if label < 0 or label in self._dead:
                    continue
                memory_id = self._memory_of.get(label)
                if memory_id is not None:
                    hits.append((memory_id, float(score)))
                if len(hits) >= k:
                    break
            return hits

    def _not_dead(self) -> faiss.IDSelector:
        if self._dead_selector is None:
            dead = faiss.IDSelectorBatch(np.asarray(sorted(self._dead), dtype=np.int64))
            self._dead_selector = (faiss.IDSelectorNot(dead), dead)  # the pair keeps `dead` alive
        return self._dead_selector[0]

    def _position_of(self) -> dict[int, int]:
        if self._positions is None:
            id_map = faiss.vector_to_array(self._index.id_map)
            self._positions = {int(label): i for i, label in enumerate(id_map.tolist())}
        return self._positions

    def _stored_vectors(self) -> Vectors:
        """A zero-copy view of the index's stored vectors (flat or HNSW), one row per position."""
        inner = faiss.downcast_index(self._index.index)
        storage = faiss.downcast_index(inner.storage) if self.approximate else inner
        view: Vectors = faiss.rev_swig_ptr(storage.get_xb(), storage.ntotal * self.dim).reshape(
            storage.ntotal, self.dim
        )
        return view

    def _exact(self, query: Vectors, labels: list[int], k: int) -> list[tuple[int, float]]:
        """Exact inner-product search over the given live labels of an HNSW index."""
        position = self._position_of()
        rows = np.asarray([position[label] for label in labels], dtype=np.int64)
        scores = self._stored_vectors()[rows] @ query.reshape(-1).astype(np.float32)
        best = np.argsort(-scores, kind="stable")[:k]
        return [(self._memory_of[labels[i]], float(scores[i])) for i in best.tolist()]

    def vectors_for_rebuild(self) -> tuple[list[int], Vectors]:
        with self._lock:
            ids = list(self._label_of)
            if not ids:
                return [], np.zeros((0, self.dim), dtype=np.float32)
            labels = np.asarray([self._label_of[m] for m in ids], dtype=np.int64)
            # Positions follow the id map, which removals compact together with the flat storage.
            position = self._position_of()
            vectors = self._stored_vectors()[[position[int(label)] for label in labels]]
            return ids, np.array(vectors, dtype=np.float32)

    def _vectors_of(self, labels: npt.NDArray[np.int64]) -> Vectors:
        """Copies of the stored vectors of live labels (call under the lock)."""
        if not len(labels):
            return np.zeros((0, self.dim), dtype=np.float32)
        if not self.approximate:  # IndexIDMap2 keeps a label -> row map of its own
            out: Vectors = self._index.reconstruct_batch(labels)
            return out
        position = self._position_of()
        rows = np.fromiter((position[int(label)] for label in labels), dtype=np.int64, count=len(labels))
        return np.array(self._stored_vectors()[rows], dtype=np.float32)

    # --- background build ---------------------------------------------------------------------------

    @property
    def building(self) -> bool:
        return self._build is not None

    @property
    def build_progress(self) -> tuple[int, int] | None:
        """(vectors added so far, vectors to add) of the running build, or None."""
        build = self._build
        return None if build is None else (build.done, build.total)

    def start_build(self, *, approximate: bool, on_built: OnBuilt | None = None) -> bool:
        """Build a fresh index (HNSW or flat) of the live vectors in a background thread; see the module.

        Returns False when a build is already running or the last one failed recently."""
        with self._lock:
            if self._build is not None:
                return False
            if self._failed_at is not None and time.monotonic() - self._failed_at < _BUILD_RETRY_SECONDS:
                return False
            live = np.fromiter(self._memory_of, dtype=np.int64, count=len(self._memory_of))
            build = _Build(approximate=approximate, start_label=self._next_label, total=len(live))
            build.thread = threading.Thread(
                target=self._run_build, args=(build, np.sort(live), on_built), name="teamlore-index-build"
            )
            self._build = build
            build.thread.daemon = True  # never keeps a process alive; close() cancels and joins it
            build.thread.start()
            return True

    def wait_for_build(self, timeout: float | None = None) -> bool:
        """Block until no build runs (True) or the timeout passes (False)."""
        build = self._build
        return build is None or build.finished.wait(timeout)

    def cancel_build(self, timeout: float | None = 60.0) -> None:
        """Stop a running build at its next batch and wait for its thread; the index in use stays."""
        build = self._build
        if build is None:
            return
        build.cancelled.set()
        if build.thread is not None and build.thread is not threading.current_thread():
            build.thread.join(timeout)

    def _run_build(self, build: _Build, labels: npt.NDArray[np.int64], on_built: OnBuilt | None) -> None:
        with contextlib.suppress(OSError, AttributeError):  # Linux: niceness is per thread
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), _BUILD_NICENESS)
        started = time.perf_counter()
        try:
            fresh, built = self._build_index(build, labels)
            if fresh is None:
                logger.info("index build cancelled")
                return
            logger.info(
                "built the %s index (%d vectors) in the background in %.1f s",
                "HNSW" if build.approximate else "flat",
                built,
                time.perf_counter() - started,
            )
        except Exception:
            logger.exception("background index build failed; the index in use stays")
            with self._lock:
                self._failed_at = time.monotonic()
            return
        finally:
            with self._lock:
                if self._build is build:
                    self._build = None
            build.finished.set()
        if on_built is not None:
            on_built(built)

    def _build_index(self, build: _Build, labels: npt.NDArray[np.int64]) -> tuple[faiss.Index | None, int]:
        fresh = _new_faiss_index(self.dim, build.approximate)
        copied: list[npt.NDArray[np.int64]] = []
        for start in range(0, len(labels), _BUILD_BATCH):
            if build.cancelled.is_set():
                return None, 0
            with self._lock:  # copy this batch's live vectors: the index in use may change between batches
                batch = labels[start : start + _BUILD_BATCH]
                batch = batch[np.fromiter((int(b) in self._memory_of for b in batch), bool, len(batch))]
                vectors = self._vectors_of(batch)
            _add_batch(fresh, vectors, batch)
            copied.append(batch)
            build.done = min(start + _BUILD_BATCH, len(labels))
        replayed = 0
        while True:  # writes made meanwhile: replay them outside the lock until few are left
            if build.cancelled.is_set():
                return None, 0
            with self._lock:
                pending = self._live(build.added[replayed:])
                final = len(pending) < _BUILD_REPLAY_UNDER_LOCK
                vectors = self._vectors_of(pending)
                if final:
                    _add_batch(fresh, vectors, pending)
                    copied.append(pending)
                    self._swap_in(build, fresh, np.concatenate(copied))
                    return fresh, int(fresh.ntotal)
                replayed = len(build.added)
            _add_batch(fresh, vectors, pending)
            copied.append(pending)

    def _live(self, labels: list[int]) -> npt.NDArray[np.int64]:
        return np.asarray([label for label in labels if label in self._memory_of], dtype=np.int64)

    def _swap_in(self, build: _Build, fresh: faiss.Index, in_fresh: npt.NDArray[np.int64]) -> None:
        """Make `fresh` the index in use (under the lock): what was retired meanwhile is retired there."""
        retired = np.asarray(build.retired, dtype=np.int64)
        gone = retired[np.isin(retired, in_fresh)]
        self._index = fresh
        self.approximate = build.approximate
        self._build = None
        self._failed_at = None
        self._positions = None
        self._dead_selector = None
        if build.approximate:
            self._dead = set(gone.tolist())
        else:
            self._dead = set()
            if len(gone):
                fresh.remove_ids(gone)

    # --- snapshots ------------------------------------------------------------------------------

    def save(self, path: Path) -> None:
        with self._lock:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            faiss.write_index(self._index, str(tmp))
            labels = np.asarray(list(self._memory_of), dtype=np.int64)
            memories = np.asarray([self._memory_of[int(lb)] for lb in labels], dtype=np.int64)
            meta_tmp = path.with_suffix(".labels.tmp.npz")
            np.savez(
                meta_tmp,
                labels=labels,
                memories=memories,
                dead=np.asarray(sorted(self._dead), dtype=np.int64),
                next_label=np.asarray([self._next_label], dtype=np.int64),
            )
            tmp.replace(path)
            meta_tmp.replace(path.with_suffix(".labels.npz"))

    @classmethod
    def load(cls, path: Path, dim: int) -> TenantIndex:
        index = faiss.read_index(str(path))
        if index.d != dim:
            raise ValueError(f"snapshot dimension {index.d} != {dim}")
        data = np.load(path.with_suffix(".labels.npz"))
        out = cls(dim, approximate="HNSW" in type(faiss.downcast_index(index.index)).__name__)
        out._index = index
        labels = data["labels"].tolist()
        memories = data["memories"].tolist()
        out._memory_of = dict(zip(labels, memories, strict=True))
        out._label_of = {m: lb for lb, m in out._memory_of.items()}
        out._dead = set(data["dead"].tolist())
        out._next_label = int(data["next_label"][0])
        if index.ntotal != len(out._memory_of) + len(out._dead):
            raise ValueError("snapshot label map does not match the index")
        return out


class IndexSet:
    """All tenants' indexes of this process, and the change sequence they are in step with."""

    def __init__(self, dim: int, model_id: str, *, approximate_above: int) -> None:
        self.dim = dim
        self.model_id = model_id
        self.approximate_above = approximate_above
        self.seq = 0
        self.database_id = ""
        self.tenants: dict[str, TenantIndex] = {}
        self.changes_since_snapshot = 0

    def get(self, tenant: str) -> TenantIndex:
        index = self.tenants.get(tenant)
        if index is None:
            index = self.tenants[tenant] = TenantIndex(self.dim)
        return index

    def maybe_grow(self, tenant: str) -> None:
        """Start building HNSW for a tenant past the threshold (or flat for one back under it), or a
        fresh HNSW for one full of tombstones. The build runs in the background; see the module."""
        index = self.tenants.get(tenant)
        if index is None or index.building:
            return
        want_approximate = len(index) > self.approximate_above
        wanted = want_approximate != index.approximate or index.needs_rebuild
        if wanted and index.start_build(approximate=want_approximate, on_built=self._built):
            logger.info(
                "building the %s index of tenant %s (%d vectors) in the background",
                "HNSW" if want_approximate else "flat",
                tenant,
                len(index),
            )

    def _built(self, vectors: int) -> None:
        # A finished build is work a crash would lose: it counts towards the next snapshot like changes.
        self.changes_since_snapshot += vectors

    @property
    def building(self) -> bool:
        return any(index.building for index in self.tenants.values())

    def wait_for_builds(self, timeout: float | None = None) -> bool:
        """Block until no tenant's index is being built (True), or the timeout passes (False)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        for index in list(self.tenants.values()):
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not index.wait_for_build(left):
                return False
        return True

    def close(self) -> None:
        """Cancel every background build (each stops at its next batch) and wait for the threads."""
        for index in list(self.tenants.values()):
            index.cancel_build()

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        files = {}
        for number, (tenant, index) in enumerate(sorted(self.tenants.items())):
            name = f"tenant-{number}.faiss"
            index.save(directory / name)
            files[tenant] = name
        manifest = {
            "seq": self.seq,
            "model_id": self.model_id,
            "dim": self.dim,
            "database_id": self.database_id,
            "tenants": files,
        }
        tmp = directory / "manifest.json.tmp"
        tmp.write_text(json.dumps(manifest))
        tmp.replace(directory / "manifest.json")
        self.changes_since_snapshot = 0

    @classmethod
    def load(cls, directory: Path, dim: int, model_id: str, *, approximate_above: int) -> IndexSet | None:
        """The snapshot in `directory`, or None when it is missing, for another model, or unreadable."""
        manifest_path = directory / "manifest.json"
        if not manifest_path.is_file():
            return None
        try:
            manifest = json.loads(manifest_path.read_text())
            if manifest["model_id"] != model_id or manifest["dim"] != dim:
                logger.info("index snapshot is for another model; rebuilding from the database")
                return None
            out = cls(dim, model_id, approximate_above=approximate_above)
            out.seq = int(manifest["seq"])
            out.database_id = str(manifest.get("database_id", ""))
            for tenant, name in manifest["tenants"].items():
                out.tenants[tenant] = TenantIndex.load(directory / name, dim)
            return out
        except Exception as exc:  # any damage means: rebuild from SQL, which is the truth
            logger.warning("index snapshot unreadable (%s); rebuilding from the database", exc)
            return None
