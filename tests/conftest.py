"""Shared fixtures: the real documents of tests/fixtures (see fixtures/PROVENANCE.md)."""

from __future__ import annotations

import functools
import os
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


# The tests' portals run on 127.0.0.1, which the HTTP client refuses unless allowed (the one
# opt-in of SECURITY.md). Tests of that refusal unset it with monkeypatch.
os.environ.setdefault("BUDGET_ALLOWED_PRIVATE_HOSTS", "127.0.0.1,localhost")
