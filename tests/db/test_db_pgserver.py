"""The throwaway-PostgreSQL helper itself."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import pgserver


def test_missing_binaries_fail_with_install_instructions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pgserver, "find_pg_bin", lambda: None)
    with pytest.raises(pgserver.PostgresUnavailableError, match="apt-get install postgresql-15"):
        pgserver.start_postgres(tmp_path)


def test_binaries_are_found_here() -> None:
    found = pgserver.find_pg_bin()
    assert found is not None, pgserver.INSTALL_HINT
    assert (found / "initdb").is_file() and (found / "pg_ctl").is_file()
