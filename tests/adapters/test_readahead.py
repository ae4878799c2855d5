"""Read-ahead hints for many small files: every path comes back, in order, lazily; the kernel
really reads the next files before they are asked for; a path that cannot take a hint (missing,
a FIFO) is handed on untouched."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters import get_adapter, plan_replay
from adapters.readahead import read_ahead
from core.model import SourceSpec, SourceState

_LIBC = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
_LIBC.mmap.restype = ctypes.c_void_p
_LIBC.mmap.argtypes = [
    ctypes.c_void_p,
    ctypes.c_size_t,
    ctypes.c_int,
    ctypes.c_int,
    ctypes.c_int,
    ctypes.c_long,
]
_LIBC.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
_LIBC.mincore.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p]
_PAGE = os.sysconf("SC_PAGE_SIZE")
_PROT_READ, _MAP_SHARED = 1, 1


def resident_pages(path: Path) -> int:
    """How many of the file's pages are in the page cache now (mincore(2) on a mapping that
    is never touched, so asking does not read it in)."""
    size = path.stat().st_size
    pages = -(-size // _PAGE)
    fd = os.open(path, os.O_RDONLY)
    try:
        address = _LIBC.mmap(None, size, _PROT_READ, _MAP_SHARED, fd, 0)
        assert address not in (None, ctypes.c_void_p(-1).value), os.strerror(ctypes.get_errno())
        try:
            vector = (ctypes.c_ubyte * pages)()
            assert _LIBC.mincore(address, size, vector) == 0, os.strerror(ctypes.get_errno())
            return sum(byte & 1 for byte in vector)
        finally:
            _LIBC.munmap(address, size)
    finally:
        os.close(fd)


def evicted_files(folder: Path, count: int) -> list[Path]:
    """`count` files of 3 pages, written, flushed and dropped from the page cache."""
    paths = []
    for number in range(count):
        path = folder / f"{number:04d}.txt"
        path.write_bytes(b"x" * (3 * _PAGE))
        paths.append(path)
    for path in paths:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)  # clean pages only are dropped
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)
    if any(resident_pages(path) for path in paths):
        pytest.skip("this filesystem keeps every page in memory (tmpfs): nothing to read ahead")
    return paths


def test_the_next_window_of_files_is_read_before_it_is_asked_for(tmp_path: Path) -> None:
    paths = evicted_files(tmp_path, 6)
    walk = read_ahead(map(str, paths), 3 * _PAGE, window=2)
    assert next(walk) == str(paths[0])  # hinted: the first window and the one after it
    deadline = time.monotonic() + 5
    while resident_pages(paths[3]) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert [resident_pages(p) for p in paths[:4]] == [3, 3, 3, 3]
    assert [resident_pages(p) for p in paths[4:]] == [0, 0]  # two windows ahead: not yet


def test_a_hint_asks_for_the_length_given_not_the_whole_file(tmp_path: Path) -> None:
    (path,) = evicted_files(tmp_path, 1)
    assert list(read_ahead([str(path)], _PAGE)) == [str(path)]
    deadline = time.monotonic() + 5
    while resident_pages(path) < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert resident_pages(path) == 1


@given(st.lists(st.text(min_size=1, max_size=5), max_size=40), st.integers(1, 7))
def test_every_path_comes_back_once_in_order(names: list[str], window: int) -> None:
    # Paths that do not exist: hints fail quietly and the paths are handed on all the same.
    paths = [f"/nonexistent-watchfloor/{name}" for name in names]
    assert list(read_ahead(paths, 4096, window=window)) == paths


def test_paths_are_taken_a_window_at_a_time() -> None:
    taken: list[str] = []

    def lazy() -> Iterator[str]:
        for number in range(100):
            taken.append(str(number))
            yield f"/nonexistent-watchfloor/{number}"

    walk = read_ahead(lazy(), 4096, window=10)
    next(walk)
    assert len(taken) == 20  # the window being read and the one hinted


def test_a_fifo_is_handed_on_without_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    result: list[list[str]] = []
    walker = threading.Thread(target=lambda: result.append(list(read_ahead([str(fifo)], 4096))))
    walker.start()
    walker.join(timeout=10)
    assert not walker.is_alive(), "opening the FIFO for a hint waited for a writer"
    assert result == [[str(fifo)]]


def test_a_replay_of_files_off_the_page_cache_reads_them_as_one_from_memory(
    tmp_path: Path,
) -> None:
    """The plan and its chunks read through the hints: cold or cached, the same articles."""
    for number in range(5):
        body = f"Date: 2026-01-{10 + number:02d}\n\nHeadline {number}\n\nText {number}.\n"
        (tmp_path / f"{number}.txt").write_text(body)
    spec = SourceSpec("replay", "seedfiles", str(tmp_path))

    def replayed() -> list[tuple[str, str]]:
        chunks = plan_replay(spec, 2).chunks
        assert len(chunks) == 3
        adapter = get_adapter("seedfiles")
        results = [adapter.fetch(chunk, SourceState()) for chunk in chunks]
        return [(a.guid, a.text) for result in results for a in result.articles]

    cached = replayed()
    evicted_files_in(tmp_path)
    assert replayed() == cached
    assert [text for _, text in cached] == [f"Text {n}." for n in range(5)]


def evicted_files_in(folder: Path) -> None:
    for path in folder.iterdir():
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)
