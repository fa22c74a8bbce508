"""Writing files safely: atomic writes, and locks between processes.

Every file the package writes that another process may read (run records, parquet tables, cached
judge answers, base-model folders) goes through ``atomic_write_*``: a reader sees the old content
or the new, never half. Locks are ``filelock``'s (``fcntl.flock`` on POSIX), released by the
operating system when their holder dies, however it dies.
"""

from __future__ import annotations

import io
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pandas as pd
from filelock import FileLock, Timeout

__all__ = ["atomic_write_bytes", "atomic_write_parquet", "atomic_write_text", "exclusive_lock", "try_lock"]


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write to a temporary file beside `path`, then rename: readers see old or new, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_parquet(path: Path, frame: pd.DataFrame) -> None:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    atomic_write_bytes(path, buffer.getvalue())


@contextmanager
def exclusive_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path``, waiting for it (two runs needing the same base model
    build it once)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(path, thread_local=False):
        yield


@contextmanager
def try_lock(path: Path) -> Iterator[bool]:
    """Try to take the lock on ``path`` without waiting; yields whether this process holds it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(path, blocking=False, thread_local=False)
    try:
        lock.acquire()
    except Timeout:
        yield False
        return
    try:
        yield True
    finally:
        lock.release()
