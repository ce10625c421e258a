"""The server process: what the app does once for every session (app_pages/process.py)."""

from __future__ import annotations

import gc
from pathlib import Path

import altair as alt
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from budget_core import analysis
from budget_core.config import DEMO_DIR

ROOT = Path(__file__).resolve().parent.parent


def walked(module: object) -> bool:
    """Whether a full collection walks this module's namespace."""
    namespace = vars(module)
    return any(found is namespace for found in gc.get_objects())


def test_after_the_first_run_a_collection_no_longer_walks_the_imported_modules(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Streamlit collects garbage after every rerun; the modules the pages import (pandas,
    Altair, budget_core...) live as long as the process, and walking them took most of a
    trivial page's rerun. The app's first run freezes them; what pages create is still
    collected."""
    monkeypatch.setenv("BUDGET_DATA_DIR", str(DEMO_DIR))
    monkeypatch.chdir(ROOT)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception
    assert gc.get_freeze_count() > 0
    assert not walked(pd) and not walked(alt) and not walked(analysis)
    created = [[]]  # a cycle made after the freeze: still collected
    created[0].append(created)
    assert any(found is created for found in gc.get_objects())
