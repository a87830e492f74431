"""Private files: the data directory 0700, the SQLite database (and its -wal/-shm) and snapshots 0600.

Everything in the data directory is the team's memory, so nothing there is for other users of the
machine. New files get the private mode when they are created; files that already exist are left as
they are (an operator may have chosen a group on purpose) and `permission_problems` names them, for
`teamlore check` to warn about.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .config import CoreSettings

__all__ = [
    "create_private_file",
    "make_private_dir",
    "make_private_tree",
    "permission_problems",
    "sqlite_file",
]

DIR_MODE = 0o700
FILE_MODE = 0o600
_SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")


def sqlite_file(database_url: str) -> Path | None:
    """The database file of a SQLite URL (None for another database or an in-memory one)."""
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    if not url.drivername.startswith("sqlite") or not url.database or url.database == ":memory:":
        return None
    return Path(url.database)


def make_private_dir(path: Path) -> None:
    """Create `path` (and missing parents) with mode 0700; an existing directory is not changed."""
    if path.is_dir():
        return
    path.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    os.chmod(path, DIR_MODE)  # mkdir's mode is filtered by the umask; say it exactly


def create_private_file(path: Path) -> None:
    """Create an empty `path` with mode 0600 unless it exists.

    SQLite gives its -wal and -shm files the mode of the database file, so creating the (empty, and so
    valid) database file first makes all three private.
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return
    os.close(fd)
    os.chmod(path, FILE_MODE)


def make_private_tree(path: Path) -> None:
    """Directories under and at `path` 0700, files 0600 (a snapshot just written by FAISS and NumPy)."""
    if path.is_file():
        os.chmod(path, FILE_MODE)
        return
    os.chmod(path, DIR_MODE)
    for child in path.rglob("*"):
        os.chmod(child, DIR_MODE if child.is_dir() else FILE_MODE)


def permission_problems(settings: CoreSettings) -> list[str]:
    """Each path of the data directory (database, snapshots) that other users may read or change, with
    the command that fixes it."""
    data_dir, database = settings.data_dir, sqlite_file(settings.resolved_database_url)
    problems: list[str] = []

    def look(path: Path, wanted: int) -> None:
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except OSError:
            return
        if mode & 0o077:
            problems.append(f"{path} is {mode:04o}, open to other users: chmod {wanted:o} {path}")

    if data_dir.is_dir():
        look(data_dir, DIR_MODE)
    if database is not None:
        look(database, FILE_MODE)
        for suffix in _SQLITE_SIDE_FILES:
            look(database.with_name(database.name + suffix), FILE_MODE)
    index_dir = data_dir / "index"
    if index_dir.is_dir():
        look(index_dir, DIR_MODE)
        for path in sorted(index_dir.rglob("*")):
            look(path, DIR_MODE if path.is_dir() else FILE_MODE)
    return problems
