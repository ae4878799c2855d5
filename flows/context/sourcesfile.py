"""The sources file, parsed once per process while it stays the same."""

from __future__ import annotations

import threading
from collections.abc import Collection
from pathlib import Path

import adapters
from core.model import SourceSpec


def load_source_specs(path: Path, regions: Collection[str] | None = None) -> list[SourceSpec]:
    """The sources file, validated by the adapters' one loader (file, line and reason for every
    error, a missing file, a folder or bad encoding included); with `regions`, a `region:` tag
    must name one of them.

    Parsed once per process while the file stays the same (path, size and modification time):
    `watchfloor run` validates it before Prefect starts and its flow reads it again.
    """
    try:
        stat = path.stat()
    except OSError:
        return adapters.load_sources_file(path, regions)  # it says what is wrong with it
    checked = None if regions is None else tuple(sorted(regions))
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns, stat.st_ino, checked)
    with _specs_lock:
        known = _parsed_specs.get(key)
    if known is None:
        known = tuple(adapters.load_sources_file(path, regions))
        with _specs_lock:
            _parsed_specs.clear()  # one sources file per process: keep only the latest
            _parsed_specs[key] = known
    return list(known)


_specs_lock = threading.Lock()
_parsed_specs: dict[tuple[str, int, int, int, tuple[str, ...] | None], tuple[SourceSpec, ...]] = {}
