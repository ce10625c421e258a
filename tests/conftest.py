"""Shared fixtures: the real documents of tests/fixtures (see fixtures/PROVENANCE.md)."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from budget_core.model import BudgetDocument
from budget_core.totem import read_totem

FIXTURES = Path(__file__).parent / "fixtures"
TOTEM = FIXTURES / "totem"
TOTEM_FILES = sorted(TOTEM.glob("*.xml"))


@pytest.fixture(params=TOTEM_FILES, ids=lambda p: p.stem)
def totem_path(request: pytest.FixtureRequest) -> Path:
    return request.param


@functools.cache
def parsed(path: Path) -> BudgetDocument:
    """Each real document is parsed once per test run; tests must not modify the result."""
    return read_totem(path)
