"""The suite's slowest modules, collected first (tests/conftest.py), are modules that exist."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import SLOWEST_FIRST


def test_every_module_named_slowest_first_exists() -> None:
    here = Path(__file__).parent
    assert [name for name in SLOWEST_FIRST if not (here / name).is_file()] == []
