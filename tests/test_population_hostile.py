"""A document's stated population (TOTEM PopTot) that no collectivité has: never a traceback,
the population of the budget's year then comes from INSEE."""

from __future__ import annotations

from pathlib import Path

import pytest

from budget_core.formats import read_documents
from budget_core.numbers import parse_population
from budget_core.population import of_document
from budget_core.store import Store
from tests.conftest import TOTEM

MOHON = TOTEM / "mohon_CFU_2023.xml"  # states PopTot V="990"


@pytest.mark.parametrize("stated", ["999999999999999999999999", "100000001"])
def test_an_implausible_stated_population_is_none_and_the_document_is_stored(
        tmp_path: Path, stated: str) -> None:
    """A 24-digit PopTot made Store.add fail with OverflowError (« Python int too large to
    convert to C long »): adding the document from the app or a sync was a traceback."""
    path = tmp_path / "mohon.xml"
    path.write_bytes(MOHON.read_bytes().replace(b'Code="PopTot" V="990"',
                                                f'Code="PopTot" V="{stated}"'.encode()))
    documents = read_documents(path)
    store = Store(tmp_path / "store")
    assert store.add(documents) == len(documents)
    row = store.documents().iloc[0]
    assert of_document(row["siren"], row["population"], 2023).source != "document"


def test_a_real_population_is_still_read() -> None:
    assert parse_population("2 165 423") == 2165423 and parse_population("990") == 990


def test_the_stated_population_is_read_from_a_catalogue_cell(tmp_path: Path) -> None:
    """`store.documents().iloc[0]["population"]` is a numpy integer: of_document took it
    for no population and divided by INSEE's 993 instead of Mohon's stated 990."""
    store = Store(tmp_path / "store")
    store.add(read_documents(MOHON))
    row = store.documents().iloc[0]
    assert of_document(row["siren"], row["population"], 2023).value == 990
    assert of_document(row["siren"], float("inf"), 2023).source == "insee_year"
    assert of_document(row["siren"], True, 2023).source == "insee_year"
