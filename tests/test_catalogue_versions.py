"""The pickers' catalogue is cached by the versions of the store and the balances, read at
every run: what another session imports is seen at the next widget change."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from budget_core.formats import read_documents
from budget_core.store import Store
from tests.conftest import TOTEM

ROOT = Path(__file__).resolve().parent.parent
CRACH = TOTEM / "crach_principal_CA_2021.xml"
MOHON = TOTEM / "mohon_CFU_2023.xml"


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    """The app reading a store of its own that holds Crach's CA 2021 only."""
    Store(tmp_path / "store").add(read_documents(CRACH))
    monkeypatch.setenv("BUDGET_DATA_DIR", str(tmp_path / "store"))
    monkeypatch.setenv("BUDGET_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.chdir(ROOT)
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)


def explorer(app: AppTest) -> AppTest:
    app.run()
    app.switch_page("app_pages/explorer.py").run()
    assert not app.exception
    return app


def test_a_document_imported_by_another_session_is_offered_at_the_next_run(
        app: AppTest, tmp_path: Path) -> None:
    """Mohon's CFU added to the store between two runs (as a sync or « Ajouter au cache
    local » in another session does) is in the picker at the next widget change."""
    explorer(app)
    [crach] = picker(app).options
    assert crach.startswith("CRACH")  # its LibelleColl
    Store(tmp_path / "store").add(read_documents(MOHON))
    app.toggle(key="ordre").set_value(True).run()
    assert not app.exception
    [mohon] = [o for o in picker(app).options if o != crach]
    assert mohon.startswith("COMMUNE DE MOHON (M57)")


def picker(app: AppTest) -> Any:
    """Explorer's collectivité picker (its options are the budgets' names)."""
    [found] = [w for w in app.selectbox if w.key == "siret"]
    return found
