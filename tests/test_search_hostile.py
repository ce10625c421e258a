"""Hostile queries and limits for the collectivité search (budget_core.search), through the
library and the CLI: never a traceback, at most MAX_RESULTS results."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from budget_core.cli import main
from budget_core.search import MAX_RESULTS, search_collectivites


@pytest.mark.parametrize("limit", [-1, -10**6, 10**20])
def test_an_out_of_range_limit_is_bounded_not_a_traceback(limit: int) -> None:
    """rapidfuzz raised RuntimeError (vector::_M_default_append) on -1 and OverflowError
    past a C long: `search grenoble --limit -1` printed a traceback."""
    found = search_collectivites("grenoble", limit)
    assert len(found) == (0 if limit < 0 else 2)  # Grenoble and Grenoble-Alpes-Métropole
    assert len(search_collectivites("saint", limit)) <= MAX_RESULTS


@pytest.mark.parametrize("query", ["", "!!!??", "🏛️", ".*", "[a-", "' OR 1=1 --", "\x00",
                                   "x" * 10_000, "\u202eelbonerg", "Мoscow", "٢١٣٨٠١٨٥٥"])
def test_hostile_queries_answer_a_list(query: str) -> None:
    assert isinstance(search_collectivites(query, 20), list)


@pytest.mark.parametrize("limit", ["-1", "99999999999999999999"])
def test_cli_search_with_an_odd_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str], limit: str) -> None:
    monkeypatch.setenv("BUDGET_CACHE_DIR", str(tmp_path))
    assert main(["search", "grenoble", "--limit", limit]) in (0, 1)
    assert "Traceback" not in capsys.readouterr().err


def test_a_catalogue_collectivite_without_a_name_is_shown_by_its_siren() -> None:
    """A syndicat whose documents state no name (entity_name null) was listed with an empty
    name: the Accueil page's expander read « — 1 document »."""
    catalogue = pd.DataFrame({"siren": ["253514491"], "entity_type": ["syndicat"],
                              "entity_name": [None], "insee": [None],
                              "siret": ["25351449100017"], "year": [2024]})
    [found] = search_collectivites("253514491", 5, catalogue)
    assert found.name == "SIREN 253514491" and found.documents == 1
