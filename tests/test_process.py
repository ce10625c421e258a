"""The server process: what the app does once for every session (app_pages/process.py)."""

from __future__ import annotations

import gc
from pathlib import Path

import altair as alt
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from app_pages import process
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


def test_each_page_freezes_what_its_first_run_left_once(monkeypatch: pytest.MonkeyPatch
                                                        ) -> None:
    """What a page's first run creates for good (its modules, Streamlit's icon sets and
    caches filled on first use) was walked by the collection after every later run: it is
    frozen after that first run, once per page; what later runs create is still collected."""
    monkeypatch.setenv("BUDGET_DATA_DIR", str(DEMO_DIR))
    monkeypatch.chdir(ROOT)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    at.switch_page("app_pages/evolution.py").run()
    assert not at.exception
    assert {"", "evolution"} <= process.FROZEN_AFTER
    kept = [[]]  # made by a first run, kept for good
    kept[0].append(kept)
    process.freeze_after_first_run("a page run for the first time")
    assert not any(found is kept for found in gc.get_objects())
    later = [[]]  # made by a later run of the same page
    later[0].append(later)
    process.freeze_after_first_run("a page run for the first time")
    assert any(found is later for found in gc.get_objects())
